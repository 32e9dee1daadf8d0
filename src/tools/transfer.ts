import { ownFields } from "../internal/options.ts";
import {
  type ArchiveResult,
  toArchiveResult,
  toUploadResult,
  type UploadResult,
} from "../protocol/transfer.ts";
import type { CallOptions, Requester } from "../request.ts";
import type { TransportBody } from "../transport.ts";

/** What `upload` and `uploadArchive` take: text (sent as UTF-8) or bytes, a stream included. */
export type UploadData = TransportBody;

/** The options of `uploadArchive` and `downloadArchive`. */
export interface ArchiveOptions extends CallOptions {
  /**
   * The archive's format.
   * @default "tar"
   */
  format?: "tar" | "tar.gz" | undefined;
}

/** The methods that move whole files and directories in and out of the sandbox, streamed. */
export interface TransferMethods {
  /**
   * Writes `data` to a file, creating its parents; an existing file is replaced atomically.
   *
   * @example
   * ```ts
   * await lumina.upload("/home/user/data.bin", await file.arrayBuffer());
   * ```
   */
  upload(filePath: string, data: UploadData, options?: CallOptions): Promise<UploadResult>;
  /** Reads a file's bytes. */
  download(filePath: string, options?: CallOptions): Promise<Uint8Array>;
  /** Reads a file as a stream, for files too large to hold; `signal` also stops the stream. */
  downloadStream(filePath: string, options?: CallOptions): Promise<ReadableStream<Uint8Array>>;
  /** Extracts a tar (or tar.gz) into `dirPath`, creating it; a refused archive leaves nothing. */
  uploadArchive(
    dirPath: string,
    data: UploadData,
    options?: ArchiveOptions,
  ): Promise<ArchiveResult>;
  /** A tar (or tar.gz) of the directory `dirPath`, streamed as it is made. */
  downloadArchive(dirPath: string, options?: ArchiveOptions): Promise<ReadableStream<Uint8Array>>;
}

/** Creates the transfer methods over `request`. */
export function createTransferMethods(request: Requester, sandbox: string): TransferMethods {
  const at = (kind: string, path: string, options: object, method: string) => {
    const { format } = ownFields(method, options, kind === "files" ? [] : ["format"]);
    const query = format ? `&format=${encodeURIComponent(String(format))}` : "";
    return `/${encodeURIComponent(sandbox)}/${kind}?path=${encodeURIComponent(path)}${query}`;
  };
  const stream = (kind: string, path: string, options: CallOptions, method: string) =>
    request(
      {
        method: "GET",
        path: at(kind, path, options, method),
        stream: true,
        idempotent: true,
        parse: (body) => body as ReadableStream<Uint8Array>,
      },
      options,
    );
  return {
    upload: (filePath, data, options = {}) =>
      request(
        {
          method: "PUT",
          path: at("files", filePath, options, "upload"),
          data,
          parse: toUploadResult,
        },
        options,
      ),
    download: async (filePath, options = {}) =>
      new Uint8Array(
        await new Response(await stream("files", filePath, options, "download")).arrayBuffer(),
      ),
    downloadStream: (filePath, options = {}) =>
      stream("files", filePath, options, "downloadStream"),
    uploadArchive: (dirPath, data, options = {}) =>
      request(
        {
          method: "PUT",
          path: at("archive", dirPath, options, "uploadArchive"),
          data,
          parse: toArchiveResult,
        },
        options,
      ),
    downloadArchive: (dirPath, options = {}) =>
      stream("archive", dirPath, options, "downloadArchive"),
  };
}
