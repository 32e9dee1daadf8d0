/**
 * What the tools resolve to: the client's results in the wire's snake_case, derived from the
 * result types of `src/protocol` (which are checked against the wire's schemas), never copied.
 */
import type { BashOutputResult, BashResult, KillBashResult } from "../protocol/bash.ts";
import type { EditResult, ReadResult, WriteResult } from "../protocol/files.ts";
import type { Snakeify } from "../protocol/parse.ts";
import type { GlobResult, GrepResult } from "../protocol/search.ts";

/** What `Read` resolves to: a text, image or PDF result in the wire's snake_case. */
export type ReadOutput = Snakeify<ReadResult>;

/** What `Write` resolves to. */
export type WriteOutput = Snakeify<WriteResult>;

/** What `Edit` resolves to. */
export type EditOutput = Snakeify<EditResult>;

/** What `Glob` resolves to. */
export type GlobOutput = Snakeify<GlobResult>;

/** What `Grep` resolves to, one shape per output mode; `truncated` when a bound cut the search. */
export type GrepOutput = Snakeify<GrepResult>;

/** What `Bash` resolves to. `shell_id` is `""` unless the command runs in the background. */
export type BashOutput = Snakeify<BashResult>;

/** What `BashOutput` resolves to (`cursor`: the byte offset after this output). */
export type BashOutputOutput = Snakeify<BashOutputResult>;

/** What `KillBash` resolves to. */
export type KillBashOutput = Snakeify<KillBashResult>;
