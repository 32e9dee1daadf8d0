/** The check every tool path passes, on the server (for read-record keys) and in the agent. */
import { AgentError } from "../failure.ts";

const maxPathBytes = 4096;
const maxSegmentBytes = 255;

/**
 * Checks a tool path (absolute, no `..` segment, no NUL, not over-long), normalises `//`, `/./`
 * and a trailing slash, and returns it. Throws `invalid_path` / `invalid_request` (400).
 */
export function checkToolPath(path: unknown, field = "file_path"): string {
  if (typeof path !== "string" || path === "") {
    throw new AgentError(
      "invalid_path",
      `${field} is required: use an absolute path like /home/user/file.txt`,
    );
  }
  if (!path.startsWith("/")) {
    throw new AgentError(
      "invalid_path",
      `${field} must be an absolute path like /home/user/${path.replace(/^\.?\/*/, "")}; got ${JSON.stringify(path)}`,
    );
  }
  if (path.includes("\0"))
    throw new AgentError("invalid_path", `${field} must not contain NUL bytes`);
  if (Buffer.byteLength(path) > maxPathBytes) {
    throw new AgentError("invalid_path", `${field} is longer than ${maxPathBytes} bytes`);
  }
  const segments = path.split("/").filter((segment) => segment !== "" && segment !== ".");
  if (segments.includes("..")) {
    throw new AgentError(
      "invalid_path",
      `${field} must not contain ".." segments; give the full absolute path`,
    );
  }
  if (segments.some((segment) => Buffer.byteLength(segment) > maxSegmentBytes)) {
    throw new AgentError(
      "invalid_path",
      `${field} has a name longer than ${maxSegmentBytes} bytes`,
    );
  }
  return `/${segments.join("/")}`;
}
