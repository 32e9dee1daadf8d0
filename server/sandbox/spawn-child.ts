/**
 * The one way the server spawns a sandbox's processes: a failed spawn (EMFILE, ENFILE, EAGAIN,
 * a missing binary) fails that one start with a 503, never the server. Node reports such a
 * failure as an `'error'` event a tick later (with no stdio at all for EMFILE); an unheard
 * `'error'` event would end the whole process, with every tenant's sandbox.
 */
import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { ServerError } from "../errors.ts";

/** The spawn function used (node's own; a test may wrap it to inject a real fault). */
export type SpawnFunction = (file: string, args: string[], options: SpawnOptions) => ChildProcess;

/**
 * Spawns `file` and resolves once the process runs, with every stdio stream the options asked
 * for; rejects with an `unavailable` ServerError (503) if it could not be spawned.
 */
export function spawnChild(
  file: string,
  args: string[],
  options: SpawnOptions,
  spawnFunction: SpawnFunction = spawn,
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawnFunction(file, args, options);
    } catch (error) {
      reject(spawnFailed(error));
      return;
    }
    // Kept for the child's whole life: a later 'error' (a failed kill) must not end the server.
    child.on("error", () => {});
    child.once("error", (error) => reject(spawnFailed(error)));
    child.once("spawn", () => resolve(child));
  });
}

function spawnFailed(error: unknown): ServerError {
  const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  return new ServerError(
    "unavailable",
    `the server could not start the sandbox's process right now (${code}); try again in a moment`,
  );
}
