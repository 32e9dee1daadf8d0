/** What each tool tells the model about itself. */
export const descriptions: Record<
  "Read" | "Write" | "Edit" | "Glob" | "Grep" | "Bash" | "BashOutput" | "KillBash",
  string
> = {
  Read: `Reads a file in the sandbox (a Linux machine; your home is /home/user).
- file_path must be absolute, e.g. /home/user/app.py.
- Text comes back as lines prefixed by their number and a tab ("   1\\timport os"); the prefix is not part of the file.
- Up to 2000 lines by default; for large files pass offset (1-based line) and limit.
- Images (png, jpeg, gif, webp) come back as base64, PDFs as text per page.
- You must Read an existing file before you Write or Edit it.`,

  Write: `Writes a file in the sandbox, replacing it if it exists and creating parent directories.
- file_path must be absolute, e.g. /home/user/app.py.
- An existing file must have been read with Read first (else error not_read), and not changed since (else stale_read: Read it again).
- Prefer Edit for changing part of an existing file.`,

  Edit: `Replaces text in a file in the sandbox by exact string match.
- file_path must be absolute. Read the file first (else error not_read).
- old_string must match the file exactly, whitespace included; leave out the Read line-number prefixes.
- old_string must occur exactly once: add surrounding lines to make it unique, or set replace_all to true to replace every occurrence.
- new_string must differ from old_string.`,

  Glob: `Finds files by glob pattern, e.g. "**/*.ts" or "src/**/test_*.py".
- The pattern is relative to path (absolute; default /home/user).
- Returns files only, newest first, hidden files included, .git skipped; at most 1000 (truncated tells whether there were more).`,

  Grep: `Searches file contents with a regular expression (ripgrep syntax).
- output_mode "files_with_matches" (default) lists matching files, "content" returns matching lines (with line_numbers and before/after/context lines), "count" counts matching lines per file.
- Narrow the search with path (absolute), glob (e.g. "*.py") or file_type (e.g. "py").
- Use case_insensitive for case-blind matches and multiline for patterns spanning lines.`,

  Bash: `Runs a bash command in a persistent shell in the sandbox (Linux, home /home/user, unprivileged user).
- The working directory, environment variables, aliases and functions persist between calls.
- stdout and stderr come back combined with exit_code; a non-zero exit_code is a normal result, not an error.
- timeout is in milliseconds, at most 600000 (10 minutes), default 120000. On timeout the command is killed, killed is true and exit_code is 124.
- Commands get no stdin: never run interactive programs; pass flags like -y.
- For servers, watchers or long builds set run_in_background: true. It returns a shell_id at once; poll it with BashOutput (pass it as bash_id) and stop it with KillBash.
- Prefer Read, Write, Edit, Glob and Grep over cat, sed, find and grep.`,

  BashOutput: `Gets new output of a background command started by Bash with run_in_background.
- bash_id is the shell_id that Bash returned.
- Each call returns only the output since the previous call, plus status: "running", "completed", "failed" or "killed", and exit_code once it has ended.
- filter keeps only complete lines containing that text. wait_ms (up to 30000) waits for new output instead of returning empty at once.`,

  KillBash: `Stops a background command started by Bash with run_in_background, and everything it started.
- shell_id is the id that Bash returned. Killing a command that already ended is harmless and reports its final status.`,
};
