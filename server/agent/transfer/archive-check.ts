/**
 * Judges every entry of an uploaded tar before anything is extracted, from GNU tar's own listing
 * (`tar -tv`), so the check and the extraction read the archive the same way. Refused: names
 * that leave the directory (absolute, `..`, through a symlink of the archive or one already on
 * disk that leads out), device nodes, FIFOs and other special entries, hard links that leave the
 * tree, setuid and setgid bits; also an entry that would meet a file where a directory is (or
 * the reverse), since the merge into place could not finish.
 */
import { lstat, realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import { AgentError } from "../failure.ts";

/** One entry of the listing. */
export interface ListedEntry {
  /** The type letter of `ls -l`: `-`, `d`, `l`, `h`, `c`, `b`, `p`, … */
  type: string;
  /** The permission letters (`rwsr-xr-x`). */
  permissions: string;
  size: number;
  name: string;
  linkName: string;
}

/** Decodes a name that tar quoted with `--quoting-style=c` in the C locale. */
function unquote(text: string): string {
  const bytes: number[] = [];
  const named: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11 };
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (char !== "\\") {
      bytes.push(...Buffer.from(char, "utf8"));
      continue;
    }
    const next = text[++i] ?? "";
    const octal = /^[0-7]{1,3}/.exec(text.slice(i, i + 3))?.[0];
    if (octal) {
      bytes.push(Number.parseInt(octal, 8));
      i += octal.length - 1;
    } else bytes.push(named[next] ?? next.charCodeAt(0));
  }
  return Buffer.from(bytes).toString("utf8");
}

/** Parses one line of `tar -tv --quoting-style=c --numeric-owner --full-time`. */
export function parseListing(line: string): ListedEntry {
  const quote = line.indexOf('"');
  const match = /^"((?:[^"\\]|\\.)*)"(?: (->|link to) "((?:[^"\\]|\\.)*)")?$/.exec(
    line.slice(quote),
  );
  if (quote < 11 || !match) {
    throw new AgentError(
      "invalid_request",
      `the archive has an entry tar lists oddly: ${line.slice(0, 200)}`,
    );
  }
  const fields = line.slice(10, quote).trim().split(/\s+/);
  return {
    type: line[0] ?? "?",
    permissions: line.slice(1, 10),
    size: Number(fields[1]) || 0,
    name: unquote(match[1] ?? ""),
    linkName: unquote(match[3] ?? ""),
  };
}

/** The name's parts inside the directory, or a refusal naming the entry. */
function partsOf(name: string, what: string): string[] {
  if (name.startsWith("/")) {
    throw new AgentError(
      "invalid_request",
      `the archive's ${what} ${JSON.stringify(name)} is an absolute path; archive entries must be relative to the directory`,
    );
  }
  const parts = name.split("/").filter((part) => part !== "" && part !== ".");
  if (parts.includes("..")) {
    throw new AgentError(
      "invalid_request",
      `the archive's ${what} ${JSON.stringify(name)} contains "..", which would leave the directory`,
    );
  }
  return parts;
}

type DiskKind = "missing" | "directory" | "other";

/** Checks entries one by one against the archive so far and the directory `root` on disk. */
export function createArchiveCheck(root: string): {
  check(entry: ListedEntry): Promise<void>;
} {
  const symlinks = new Set<string>();
  const onDisk = new Map<string, DiskKind>();
  let rootReal: string | undefined;

  const throughSymlink = (parts: string[], name: string): void => {
    for (let k = 1; k < parts.length; k++) {
      const prefix = parts.slice(0, k).join("/");
      if (symlinks.has(prefix)) {
        throw new AgentError(
          "invalid_request",
          `the archive's entry ${JSON.stringify(name)} goes through ${JSON.stringify(prefix)}, a symlink of the same archive`,
        );
      }
    }
  };

  // What is at `relative` below the directory now; a symlink there must stay inside it.
  const kindOnDisk = async (relative: string, name: string): Promise<DiskKind> => {
    const known = onDisk.get(relative);
    if (known) return known;
    const path = join(root, relative);
    let kind: DiskKind = "missing";
    const info = await lstat(path).catch(() => undefined);
    if (info?.isSymbolicLink()) {
      rootReal ??= await realpath(root);
      const target = await realpath(path).catch(() => undefined);
      if (target !== undefined && target !== rootReal && !target.startsWith(`${rootReal}/`)) {
        throw new AgentError(
          "invalid_request",
          `the archive's entry ${JSON.stringify(name)} would go through ${JSON.stringify(relative)}, a symlink on disk that leads out of the directory`,
        );
      }
      const followed = target === undefined ? undefined : await stat(target).catch(() => undefined);
      kind = followed?.isDirectory() ? "directory" : "other";
    } else if (info) kind = info.isDirectory() ? "directory" : "other";
    if (onDisk.size > 100_000) onDisk.clear(); // Bounded: a huge archive rechecks instead.
    onDisk.set(relative, kind);
    return kind;
  };

  return {
    async check(entry) {
      const name = entry.name;
      const shown = JSON.stringify(name);
      if (!"-dlh".includes(entry.type)) {
        const kind =
          { c: "a character device", b: "a block device", p: "a FIFO", s: "a socket" }[
            entry.type
          ] ?? `an entry of type '${entry.type}'`;
        throw new AgentError(
          "invalid_request",
          `the archive's entry ${shown} is ${kind}; only files, directories and links can be uploaded`,
        );
      }
      if (/[sS]/.test(entry.permissions[2] ?? "") || /[sS]/.test(entry.permissions[5] ?? "")) {
        throw new AgentError(
          "invalid_request",
          `the archive's entry ${shown} has the setuid or setgid bit; clear it (chmod u-s,g-s) and upload again`,
        );
      }
      const parts = partsOf(name, "entry");
      throughSymlink(parts, name);
      if (entry.type === "h") {
        const target = partsOf(entry.linkName, `hard link ${shown} to`);
        if (target.length === 0)
          throw new AgentError(
            "invalid_request",
            `the archive's hard link ${shown} points at the directory itself`,
          );
        throughSymlink([...target, ""], name);
      }
      for (let k = 1; k <= parts.length; k++) {
        const relative = parts.slice(0, k).join("/");
        const kind = await kindOnDisk(relative, name);
        if (kind === "missing") break;
        const mustBeDirectory = k < parts.length || entry.type === "d";
        if (mustBeDirectory !== (kind === "directory")) {
          throw new AgentError(
            "invalid_request",
            `the archive's entry ${shown} would replace ${JSON.stringify(relative)}, which is ${kind === "directory" ? "a directory" : "not a directory"} on disk`,
          );
        }
      }
      if (entry.type === "l" && parts.length > 0) symlinks.add(parts.join("/"));
    },
  };
}
