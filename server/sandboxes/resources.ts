/**
 * Per-sandbox resources (CONTRACT §12): what a create may ask for, checked against the server's
 * maxima, and the limits they turn into. They reach the backend only through `SandboxLimits`, so
 * the cgroup drivers apply `cpus` and `memoryMb` and the disk images `diskMb` as before.
 */
import { ServerError } from "../errors.ts";
import type { SandboxLimits } from "../sandbox/backend.ts";
import type { ResourceRequest } from "../store/sandbox-resources.ts";

const mebibyte = 1024 ** 2;

/** The resources of a sandbox as `SandboxInfo.resources` shows them. */
export interface SandboxResources {
  /** CPU time in cores; 0 when the server sets no CPU limit. */
  cpus: number;
  memoryMb: number;
  /** The size of `/home/user` in MiB; 0 when homes get no quota. */
  diskMb: number;
}

/** The most each sandbox may ask for. */
export type ResourceMaxima = SandboxResources;

/** The resources that `limits` give. */
export function resourcesOf(limits: SandboxLimits): SandboxResources {
  return {
    cpus: limits.maxCpus ?? 0,
    memoryMb: Math.floor(limits.maxMemory / mebibyte),
    diskMb: Math.floor((limits.diskSize ?? 0) / mebibyte),
  };
}

/** The server's limits with a sandbox's request applied on top. */
export function limitsWith(limits: SandboxLimits, request: ResourceRequest): SandboxLimits {
  const result = { ...limits };
  if (request.cpus !== undefined) result.maxCpus = request.cpus;
  if (request.memoryMb !== undefined) result.maxMemory = request.memoryMb * mebibyte;
  if (request.diskMb !== undefined) result.diskSize = request.diskMb * mebibyte;
  return result;
}

const wireNames: Record<keyof ResourceRequest, string> = {
  cpus: "resources.cpus",
  memoryMb: "resources.memory_mb",
  diskMb: "resources.disk_mb",
};

/** Throws a 400 naming the first field above the server's maximum (0 there: not configurable). */
export function checkResources(request: ResourceRequest, maxima: ResourceMaxima): void {
  for (const key of Object.keys(wireNames) as (keyof ResourceRequest)[]) {
    const asked = request[key];
    if (asked === undefined || asked <= maxima[key]) continue;
    throw new ServerError(
      "invalid_request",
      maxima[key] > 0
        ? `the field '${wireNames[key]}' must be at most ${maxima[key]}, this server's maximum; ask for less`
        : `the field '${wireNames[key]}' cannot be set on this server (it applies no such limit); leave it out`,
    );
  }
}
