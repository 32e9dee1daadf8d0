/**
 * The server's file descriptors: how many are open against RLIMIT_NOFILE. A sandbox start needs
 * a few dozen at once (pipes, disk image tools, cgroup files); starting one with fewer free is
 * what used to fail half-way, so starts check the reserve first and answer 503 instead.
 */
import { readdirSync, readFileSync } from "node:fs";
import { ServerError } from "../errors.ts";

/** Descriptors kept free by default: a start refuses to begin with fewer. */
export const defaultDescriptorReserve = 64;

/** Open descriptors and the soft RLIMIT_NOFILE of this process. */
export interface DescriptorUsage {
  open: number;
  limit: number;
}

/** This process's descriptor usage, or undefined where /proc does not tell (not Linux). */
export function descriptorUsage(): DescriptorUsage | undefined {
  try {
    const limits = readFileSync("/proc/self/limits", "utf8");
    const soft = /^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1];
    if (soft === undefined || soft === "unlimited") return undefined;
    // readdirSync holds one descriptor of its own while it lists: not counted.
    const open = readdirSync("/proc/self/fd").length - 1;
    return { open, limit: Number(soft) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // No descriptor left even to look: as short as it gets.
    if (code === "EMFILE" || code === "ENFILE") return { open: Number.POSITIVE_INFINITY, limit: 0 };
    return undefined;
  }
}

/**
 * Throws an `unavailable` ServerError (503) when fewer than `reserve` descriptors are free, and
 * logs the count, so a shortage fails this start cleanly instead of half-way.
 */
export function checkDescriptorReserve(reserve: number, log: (line: string) => void): void {
  if (reserve <= 0) return;
  const usage = descriptorUsage();
  if (!usage || usage.limit - usage.open >= reserve) return;
  log(
    `lumina: refused a sandbox start: ${usage.open} of ${usage.limit} file descriptors in use, fewer than the reserve of ${reserve} free`,
  );
  throw new ServerError(
    "unavailable",
    "the server is short of file descriptors right now and did not start the sandbox; try again in a moment",
  );
}
