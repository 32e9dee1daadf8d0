import type { AgentHandlers } from "../../shared/agent-protocol.ts";
import type { TransferMethods } from "../../shared/transfer-protocol.ts";
import { downloadArchive, uploadArchive } from "./archives.ts";
import { downloadFile, uploadFile } from "./files.ts";

/** The streamed handlers (uploads, downloads, archives), by method name. */
export const transferHandlers: AgentHandlers<keyof TransferMethods> = {
  file_upload: (params, _signal, stream) => uploadFile(params, stream),
  file_download: (params, _signal, stream) => downloadFile(params, stream),
  archive_upload: (params, signal, stream) => uploadArchive(params, signal, stream),
  archive_download: (params, signal, stream) => downloadArchive(params, signal, stream),
};
