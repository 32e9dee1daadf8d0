/**
 * Which CPUs a sandbox's processes may be scheduled on, so `nproc` (and every program that sizes
 * its thread pool from the affinity mask: make -j, node's availableParallelism, Go, Python) sees
 * the sandbox's share instead of the whole host. The limit itself is the cgroup's CPU quota; this
 * is what programs read. A sandbox may widen its own mask again (sched_setaffinity), which gains
 * it parallelism but no CPU time beyond its quota.
 */
import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";

/**
 * The CPU list (`taskset -c` syntax) of ceil(`maxCpus`) CPUs for sandbox `id`, starting at a CPU
 * picked by the id so sandboxes spread over the host; undefined when it would be every CPU.
 */
export function cpuListOf(
  maxCpus: number | undefined,
  id: string,
  cores: number = availableParallelism(),
): string | undefined {
  if (maxCpus === undefined || !(maxCpus > 0)) return undefined;
  const count = Math.ceil(maxCpus);
  if (count >= cores) return undefined;
  const first = createHash("sha256").update(id).digest().readUInt32BE(0) % cores;
  return Array.from({ length: count }, (_, index) => (first + index) % cores).join(",");
}
