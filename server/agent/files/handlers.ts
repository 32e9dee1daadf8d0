import type { AgentHandlers } from "../protocol.ts";
import type { FileMethods } from "./protocol.ts";

/** The file-tool handlers, by method name. */
export const fileHandlers: AgentHandlers<keyof FileMethods> = {};
