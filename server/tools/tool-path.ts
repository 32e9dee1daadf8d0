/** The server's side of the tool path check the agent makes too (read-record keys need it). */

import { ServerError } from "../errors.ts";
import { parseToolPath } from "../shared/tool-path.ts";

/**
 * Checks a tool path (absolute, no `..` segment, no NUL, not over-long), normalises `//`, `/./`
 * and a trailing slash, and returns it. Throws `invalid_path` (400).
 */
export function checkToolPath(path: unknown, field = "file_path"): string {
  const checked = parseToolPath(path, field);
  if ("invalidPath" in checked) throw new ServerError("invalid_path", checked.invalidPath);
  return checked.path;
}
