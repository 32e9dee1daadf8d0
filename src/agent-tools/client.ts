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
  write(
    filePath: string,
    content: string,
    options?: ToolCallOptions,
  ): Promise<{ message: string; bytesWritten: number; filePath: string }>;
  edit(
    filePath: string,
    oldString: string,
    newString: string,
    options?: { replaceAll?: boolean } & ToolCallOptions,
  ): Promise<{ message: string; replacements: number; filePath: string }>;
  glob(
    pattern: string,
    options?: { path?: string } & ToolCallOptions,
  ): Promise<{ matches: string[]; count: number; searchPath: string; truncated: boolean }>;
  grep(pattern: string, options?: ClientGrepOptions & ToolCallOptions): Promise<ClientGrepResult>;
  bash(
    command: string,
    options?: {
      timeout?: number;
      description?: string;
      runInBackground?: boolean;
    } & ToolCallOptions,
  ): Promise<{ output: string; exitCode: number; killed: boolean; shellId: string }>;
  bashOutput(
    shellId: string,
    options?: { filter?: string; waitMs?: number } & ToolCallOptions,
  ): Promise<{ output: string; status: string; exitCode: number | null; cursor: number }>;
  killBash(
    shellId: string,
    options?: ToolCallOptions,
  ): Promise<{ message: string; shellId: string; status: string }>;
}

/** The call options the tools add to each method's options object. */
export interface ToolCallOptions {
  /** The signal that aborts the underlying HTTP request. */
  signal?: AbortSignal;
}

/** The client's `read` result: text, image or PDF. */
export type ClientReadResult =
  | { type: "text"; content: string; totalLines: number; linesReturned: number }
  | { type: "image"; image: string; mimeType: string; fileSize: number }
  | { type: "pdf"; pages: { pageNumber: number; text: string }[]; totalPages: number };

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

/** The client's `grep` result, one shape per output mode. */
export type ClientGrepResult =
  | { mode: "files_with_matches"; files: string[]; count: number }
  | {
      mode: "content";
      matches: {
        file: string;
        lineNumber: number | null;
        line: string;
        beforeContext: string[];
        afterContext: string[];
      }[];
      totalMatches: number;
    }
  | { mode: "count"; counts: { file: string; count: number }[]; total: number };
