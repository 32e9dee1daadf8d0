/**
 * The bubblewrap backend's start-time check: which `bwrap` it runs, and whether that binary and
 * the rest of the spawn chain can make sandboxes on this host. A failure refuses the server's
 * start with what to install, before anything is opened.
 */
import { spawn } from "node:child_process";
import { delimiter, join } from "node:path";
import { isExecutable } from "./storage.ts";

const probeArgs =
  "--unshare-all --unshare-user --ro-bind /usr /usr --symlink usr/lib /lib --symlink usr/lib64 /lib64 -- /usr/bin/true";

/** Whether bubblewrap (and the tools of the spawn chain) can run sandboxes here. */
export async function bubblewrapAvailable(bwrapPath = "/usr/bin/bwrap"): Promise<boolean> {
  for (const tool of [bwrapPath, "/usr/bin/prlimit", "/usr/bin/setpriv", "/usr/bin/bash"]) {
    if (!(await isExecutable(tool))) return false;
  }
  // Namespaces may still be forbidden (a container without user namespaces): try one.
  return new Promise((resolve) => {
    const probe = spawn(bwrapPath, probeArgs.split(" "), { stdio: "ignore", env: {} });
    probe.on("error", () => resolve(false));
    probe.on("exit", (code) => resolve(code === 0));
  });
}

/** The first executable `name` in the directories of `pathVariable`, or undefined. */
export async function findOnPath(
  name: string,
  pathVariable: string = process.env["PATH"] ?? "",
): Promise<string | undefined> {
  for (const dir of pathVariable.split(delimiter)) {
    if (dir && (await isExecutable(join(dir, name)))) return join(dir, name);
  }
  return undefined;
}

/**
 * The bwrap binary to run: `configured` when given, else the first `bwrap` on PATH (so an
 * installation outside /usr/bin is found too). Throws, saying what to install, when it or the
 * spawn chain cannot make sandboxes here.
 */
export async function resolveBubblewrap(configured?: string): Promise<string> {
  const bwrapPath = configured ?? (await findOnPath("bwrap"));
  if (bwrapPath && (await bubblewrapAvailable(bwrapPath))) return bwrapPath;
  throw new Error(
    "bubblewrap is required to isolate sandboxes but was not found (bwrap on PATH, plus prlimit, setpriv and bash in /usr/bin).\n" +
      "Install it with: sudo apt-get install bubblewrap\n" +
      "Or, for development only and with no isolation at all: --isolation none",
  );
}
