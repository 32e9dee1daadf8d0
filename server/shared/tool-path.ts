/**
 * The check every tool path passes, on the server (for read-record keys) and in the agent. It
 * says what is wrong instead of throwing, so each side raises its own error type.
 */

const maxPathBytes = 4096;
const maxSegmentBytes = 255;

/** A checked tool path, or why it is refused (an `invalid_path` message that says what to do). */
export type ToolPathCheck = { path: string } | { invalidPath: string };

/**
 * Checks a tool path (absolute, no `..` segment, no NUL, not over-long) and normalises `//`,
 * `/./` and a trailing slash; returns the path, or the message of an `invalid_path` (400).
 */
export function parseToolPath(path: unknown, field = "file_path"): ToolPathCheck {
  if (typeof path !== "string" || path === "") {
    return { invalidPath: `${field} is required: use an absolute path like /home/user/file.txt` };
  }
  if (!path.startsWith("/")) {
    return {
      invalidPath: `${field} must be an absolute path like /home/user/${path.replace(/^\.?\/*/, "")}; got ${JSON.stringify(path)}`,
    };
  }
  if (path.includes("\0")) return { invalidPath: `${field} must not contain NUL bytes` };
  if (Buffer.byteLength(path) > maxPathBytes) {
    return { invalidPath: `${field} is longer than ${maxPathBytes} bytes` };
  }
  const segments = path.split("/").filter((segment) => segment !== "" && segment !== ".");
  if (segments.includes("..")) {
    return { invalidPath: `${field} must not contain ".." segments; give the full absolute path` };
  }
  if (segments.some((segment) => Buffer.byteLength(segment) > maxSegmentBytes)) {
    return { invalidPath: `${field} has a name longer than ${maxSegmentBytes} bytes` };
  }
  return { path: `/${segments.join("/")}` };
}
