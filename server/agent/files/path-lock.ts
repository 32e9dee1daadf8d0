/**
 * One write or edit at a time per file inside the agent: the read-before-write check and the
 * rename are separate awaits, and two changes passing the check together would lose one.
 */
import { realpath } from "node:fs/promises";

/** The last queued holder per path; a path with nobody waiting has no entry. */
const tails = new Map<string, Promise<void>>();

/** Runs `work` once every earlier holder of the same file (after symlinks) is done. */
export async function withPathLock<T>(local: string, work: () => Promise<T>): Promise<T> {
  // Symlinks resolved, so two names of one file share a lock; a missing file keeps its name.
  const key = await realpath(local).catch(() => local);
  const previous = tails.get(key) ?? Promise.resolve();
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const tail = previous.then(() => held);
  tails.set(key, tail);
  await previous;
  try {
    return await work();
  } finally {
    release();
    if (tails.get(key) === tail) tails.delete(key);
  }
}
