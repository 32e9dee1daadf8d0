import type { BashOutputResult, BashResult, KillBashResult } from "../protocol/bash.ts";
import type { EditResult, ReadResult, WriteResult } from "../protocol/files.ts";
import type { GlobResult, GrepResult } from "../protocol/search.ts";

/**
 * The slice of the Lumina client that the agent tools call. Any object with these methods works:
 * the client from `createClient()`, a wrapper that logs or meters calls, or a test double.
 * Results use the client's camelCase names; the tools turn them back into the wire's snake_case.
 */
export interface LuminaToolsClient {
  read(
    filePath: string,
    options?: { offset?: number; limit?: number } & ToolCallOptions,
  ): Promise<ClientReadResult>;
  write(filePath: string, content: string, options?: ToolCallOptions): Promise<WriteResult>;
  edit(
    filePath: string,
    oldString: string,
    newString: string,
    options?: { replaceAll?: boolean } & ToolCallOptions,
  ): Promise<EditResult>;
  glob(pattern: string, options?: { path?: string } & ToolCallOptions): Promise<GlobResult>;
  grep(pattern: string, options?: ClientGrepOptions & ToolCallOptions): Promise<ClientGrepResult>;
  bash(
    command: string,
    options?: {
      timeout?: number;
      description?: string;
      runInBackground?: boolean;
    } & ToolCallOptions,
  ): Promise<BashResult>;
  bashOutput(
    shellId: string,
    options?: { filter?: string; waitMs?: number } & ToolCallOptions,
  ): Promise<BashOutputResult>;
  killBash(shellId: string, options?: ToolCallOptions): Promise<KillBashResult>;
}

/** The call options the tools add to each method's options object. */
export interface ToolCallOptions {
  /** The signal that aborts the underlying HTTP request. */
  signal?: AbortSignal;
}

/** The client's `read` result: text, image or PDF (the SDK's `ReadResult`). */
export type ClientReadResult = ReadResult;

/** The client's `grep` options. */
export interface ClientGrepOptions {
  path?: string;
  glob?: string;
  outputMode?: "content" | "files_with_matches" | "count";
  lineNumbers?: boolean;
  after?: number;
  before?: number;
  context?: number;
  fileType?: string;
  caseInsensitive?: boolean;
  multiline?: boolean;
}

/** The client's `grep` result, one shape per output mode (the SDK's `GrepResult`). */
export type ClientGrepResult = GrepResult;
