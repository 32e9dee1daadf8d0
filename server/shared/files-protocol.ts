/**
 * The file-tool methods of the agent. Paths are the sandbox's own absolute paths; the agent
 * checks them (absolute, no `..`, no NUL, bounded length) before touching anything.
 */

/** What the agent reports of a file it read or wrote, to tell later whether it changed. */
export interface AgentStamp {
  /** Modification time in nanoseconds, as a decimal string. */
  mtimeNs: string;
  size: number;
  inode: number;
}

/** A read's answer: formatted text lines, or the raw bytes of an image or PDF. */
export type AgentReadResult =
  | {
      kind: "text";
      /** The lines, each `N\tline\n`, the number right-aligned in at least 4 columns. */
      content: string;
      totalLines: number;
      linesReturned: number;
      stamp: AgentStamp;
    }
  | { kind: "image"; base64: string; mimeType: string; size: number; stamp: AgentStamp }
  | { kind: "pdf"; base64: string; size: number; stamp: AgentStamp };

/**
 * What a write or edit expects of the file on disk right before it replaces it: the stamp of
 * the session's read record, or `null` when the session has none (then only a new file may be
 * created).
 */
export type ExpectedStamp = AgentStamp | null;

/** One grep content match, in wire shape. */
export interface AgentGrepMatch {
  file: string;
  line_number: number | null;
  line: string;
  before_context: string[];
  after_context: string[];
}

/** The agent's grep parameters (already defaulted by the server). */
export interface AgentGrepParams {
  pattern: string;
  path: string;
  mode: "files_with_matches" | "content" | "count";
  glob?: string;
  fileType?: string;
  caseInsensitive: boolean;
  multiline: boolean;
  lineNumbers: boolean;
  before: number;
  after: number;
}

/** The agent's grep answer (`truncated` when a time or size bound cut the search short). */
export type AgentGrepResult =
  | { mode: "files_with_matches"; files: string[]; truncated: boolean }
  | { mode: "content"; matches: AgentGrepMatch[]; totalMatches: number; truncated: boolean }
  | { mode: "count"; counts: { file: string; count: number }[]; truncated: boolean };

/** The file-tool methods of the agent, by name. */
export type FileMethods = {
  file_read: {
    params: { path: string; offset?: number; limit?: number };
    result: AgentReadResult;
  };
  file_write: {
    params: { path: string; content: string; expect: ExpectedStamp };
    /** `created`: no file was there before. */
    result: { bytesWritten: number; created: boolean; stamp: AgentStamp };
  };
  file_edit: {
    params: {
      path: string;
      oldString: string;
      newString: string;
      replaceAll: boolean;
      expect: ExpectedStamp;
    };
    result: { replacements: number; stamp: AgentStamp };
  };
  file_glob: {
    params: { pattern: string; path: string };
    result: { matches: string[]; truncated: boolean };
  };
  file_grep: { params: AgentGrepParams; result: AgentGrepResult };
};
