/**
 * Path checks and the home mapping of the agent. Inside a bubblewrap sandbox the paths are used
 * as they are. Under the unisolated backend (`LUMINA_AGENT_HOME` set) `/home/user` maps to the
 * host directory that holds the sandbox's home, and answers map back.
 */
import { readFileSync } from "node:fs";
import { parseToolPath } from "../../shared/tool-path.ts";
import { AgentError } from "../failure.ts";

/**
 * Checks a tool path (absolute, no `..` segment, no NUL, not over-long), normalises `//`, `/./`
 * and a trailing slash, and returns it. Throws `invalid_path` (400).
 */
export function checkToolPath(path: unknown, field = "file_path"): string {
  const checked = parseToolPath(path, field);
  if ("invalidPath" in checked) throw new AgentError("invalid_path", checked.invalidPath);
  return checked.path;
}

const sandboxHome = "/home/user";
const { LUMINA_AGENT_HOME: agentHome } = process.env;
const hostHome = agentHome?.replace(/\/+$/, "");
/** The local path the agent opens for a (checked) sandbox path. */
export function toLocalPath(path: string): string {
  if (!hostHome) return path;
  if (path === sandboxHome) return hostHome;
  if (path.startsWith(`${sandboxHome}/`)) return hostHome + path.slice(sandboxHome.length);
  return path;
}

/** The sandbox path to report for a local path. */
export function toSandboxPath(path: string): string {
  if (!hostHome) return path;
  if (path === hostHome) return sandboxHome;
  if (path.startsWith(`${hostHome}/`)) return sandboxHome + path.slice(hostHome.length);
  return path;
}

/** Turns a Node file-system error into the tool error a caller can act on. */
export function fileError(error: unknown, path: string): never {
  const code = (error as { code?: unknown } | null)?.code;
  if (error instanceof AgentError) throw error;
  switch (code) {
    case "ENOENT":
      throw new AgentError("not_found", `file not found: ${path}`);
    case "ENOTDIR":
      throw new AgentError("not_found", `file not found: ${path} (a parent is not a directory)`);
    case "EISDIR":
      throw new AgentError("invalid_request", `${path} is a directory, not a file`);
    case "ELOOP":
      throw new AgentError("invalid_request", `${path}: too many levels of symbolic links`);
    case "EACCES":
    case "EPERM":
      throw new AgentError("invalid_request", `permission denied: ${path}`);
    case "EROFS":
      // The home is mounted writable: read-only there means the home's image hit a
      // full data disk on the host, and ext4 turned itself read-only after the failed writes.
      if (/^\/home\/user(\/|$)/.test(path)) {
        throw new AgentError(
          "disk_full",
          `${path} cannot be written: this sandbox's disk stopped taking writes because the server's data disk is full; tell the server's operator, who must free disk space and restart the server`,
        );
      }
      throw new AgentError(
        "invalid_request",
        `${path} is on a read-only file system; write under /home/user or /tmp`,
      );
    case "ENAMETOOLONG":
      throw new AgentError("invalid_path", `path too long: ${path}`);
    case "EIO":
    case "EINVAL":
    case "ENXIO":
    case "ENODEV":
      // Kernel files such as /proc/<pid>/mem look regular but refuse plain reads and writes.
      throw new AgentError(
        "invalid_request",
        `${path} cannot be read or written as a plain file (${code}); for a kernel or device file, use bash instead`,
      );
    case "ENOSPC":
    case "EDQUOT":
      throw new AgentError(
        "disk_full",
        `no space left for ${path}: the sandbox's disk (or /tmp) is full; delete files it no longer needs with bash, then retry`,
      );
    case "EFBIG":
      throw new AgentError(
        "payload_too_large",
        `${path} would be larger than the sandbox's file size limit${fileSizeLimitText()}; write less`,
      );
    default:
      throw error;
  }
}

/** The sandbox's per-file size limit (RLIMIT_FSIZE) as " of N bytes", or "" when unknown. */
function fileSizeLimitText(): string {
  try {
    const limits = readFileSync("/proc/self/limits", "latin1");
    const bytes = /^Max file size\s+(\d+)/m.exec(limits)?.[1];
    return bytes ? ` of ${bytes} bytes` : "";
  } catch {
    return "";
  }
}
