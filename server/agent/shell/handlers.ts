import type { AgentHandlers } from "../protocol.ts";
import type { ShellMethods } from "./protocol.ts";

/** The shell handlers, by method name. */
export const shellHandlers: AgentHandlers<keyof ShellMethods> = {};
