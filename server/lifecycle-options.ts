/**
 * The CLI flags of CONTRACT §12 (idle stop, warm pool, resource maxima, snapshots per user) and their parsing, kept
 * out of server/main.ts so each feature's flags stay together.
 */
import type { LuminaServerOptions } from "./options.ts";

/** The usage line of these flags. */
export const lifecycleUsage =
  "[--idle-timeout <ms>] [--warm-pool <n>] [--max-cpus <n>] [--max-memory-mb <n>] [--max-disk-mb <n>] [--max-snapshots <n>]";

/** The help text of these flags. */
export const lifecycleHelp = `  --idle-timeout <ms>    stop a sandbox after this long with no request and no running
                         background command (0: never; else at least 1000; default 1800000);
                         its next tool call starts it again. A create may set its own.
  --warm-pool <n>        environments kept prepared so an eager create starts at once
                         (default 2; 0: none).
  --max-cpus <n>         the most cores, --max-memory-mb and --max-disk-mb the most MiB, that a
                         create may ask for in 'resources' (default: what every sandbox gets).
  --max-snapshots <n>    snapshots one user may keep (default 32); past it a snapshot is a 409.`;

/** parseArgs' option table for these flags. */
export const lifecycleFlags = {
  "idle-timeout": { type: "string" },
  "warm-pool": { type: "string" },
  "max-cpus": { type: "string" },
  "max-memory-mb": { type: "string" },
  "max-disk-mb": { type: "string" },
  "max-snapshots": { type: "string" },
} as const;

/** The server options these flags set; throws a message naming a bad flag. */
export function lifecycleOptions(
  values: Partial<Record<keyof typeof lifecycleFlags, string | undefined>>,
): Pick<
  LuminaServerOptions,
  "idleTimeoutMs" | "warmPool" | "maxResources" | "maxSnapshotsPerUser"
> {
  const number = (flag: keyof typeof lifecycleFlags, whole: boolean) => {
    const text = values[flag];
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!(whole ? /^\d+$/.test(text) : value > 0 && Number.isFinite(value)))
      throw new Error(`--${flag} must be ${whole ? "a whole number" : "a positive number"}`);
    return value;
  };
  const result: ReturnType<typeof lifecycleOptions> = {};
  const idle = number("idle-timeout", true);
  if (idle !== undefined && idle !== 0 && idle < 1000)
    throw new Error("--idle-timeout must be 0 (never) or at least 1000 ms");
  if (idle !== undefined) result.idleTimeoutMs = idle;
  const snapshots = number("max-snapshots", true);
  if (snapshots !== undefined) result.maxSnapshotsPerUser = snapshots;
  const pool = number("warm-pool", true);
  if (pool !== undefined) result.warmPool = pool;
  const cpus = number("max-cpus", false);
  const memoryMb = number("max-memory-mb", true);
  const diskMb = number("max-disk-mb", true);
  if (cpus !== undefined || memoryMb !== undefined || diskMb !== undefined) {
    result.maxResources = {
      ...(cpus !== undefined ? { cpus } : {}),
      ...(memoryMb !== undefined ? { memoryMb } : {}),
      ...(diskMb !== undefined ? { diskMb } : {}),
    };
  }
  return result;
}
