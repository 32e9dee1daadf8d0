/** What `Read` resolves to: a text, image or PDF result in the wire's snake_case. */
export type ReadOutput =
  | { type: "text"; content: string; total_lines: number; lines_returned: number }
  | { type: "image"; image: string; mime_type: string; file_size: number }
  | { type: "pdf"; pages: { page_number: number; text: string }[]; total_pages: number };

/** What `Write` resolves to. */
export interface WriteOutput {
  message: string;
  bytes_written: number;
  file_path: string;
}

/** What `Edit` resolves to. */
export interface EditOutput {
  message: string;
  replacements: number;
  file_path: string;
}

/** What `Glob` resolves to. */
export interface GlobOutput {
  matches: string[];
  count: number;
  search_path: string;
  truncated: boolean;
}

/** What `Grep` resolves to, one shape per output mode. */
export type GrepOutput =
  | { mode: "files_with_matches"; files: string[]; count: number }
  | {
      mode: "content";
      matches: {
        file: string;
        line_number: number | null;
        line: string;
        before_context: string[];
        after_context: string[];
      }[];
      total_matches: number;
    }
  | { mode: "count"; counts: { file: string; count: number }[]; total: number };

/** What `Bash` resolves to. `shell_id` is `""` unless the command runs in the background. */
export interface BashOutput {
  output: string;
  exit_code: number;
  killed: boolean;
  shell_id: string;
}

/** What `BashOutput` resolves to. */
export interface BashOutputOutput {
  output: string;
  status: string;
  exit_code: number | null;
  /** The byte offset after this output (the next poll starts there by itself). */
  cursor: number;
}

/** What `KillBash` resolves to. */
export interface KillBashOutput {
  message: string;
  shell_id: string;
  status: string;
}
