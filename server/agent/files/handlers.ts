import type { AgentHandlers } from "../../shared/agent-protocol.ts";
import type { FileMethods } from "../../shared/files-protocol.ts";
import { globTool } from "./glob.ts";
import { grepTool } from "./grep.ts";
import { checkToolPath } from "./paths.ts";
import { readTool } from "./read.ts";
import { editTool, writeTool } from "./write.ts";

/** The file-tool handlers, by method name. */
export const fileHandlers: AgentHandlers<keyof FileMethods> = {
  file_read: (params) => readTool(params),
  file_write: (params) => writeTool(params),
  file_edit: (params) => editTool(params),
  file_glob: (params, signal) => globTool(params, signal),
  file_grep: (params, signal) => grepTool(params, checkToolPath(params.path, "path"), signal),
};
