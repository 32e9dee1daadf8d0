/**
 * Which cgroup hierarchy this host uses, from `/proc/self/mountinfo`: cgroup v2 when the unified
 * hierarchy (`cgroup2`) is mounted at `/sys/fs/cgroup`; cgroup v1 when a v1 hierarchy carries
 * the memory, pids or cpu controller (a "hybrid" host also mounts an empty cgroup2 at
 * `/sys/fs/cgroup/unified`; its controllers are the v1 ones); otherwise cgroup v2 at any other
 * cgroup2 mount; otherwise none.
 */
import { readFileSync } from "node:fs";
import { type CgroupDriver, type CgroupLimit, cgroupLimits, type MissingLimit } from "./cgroup.ts";
import { type CgroupV1Mounts, createCgroupV1Driver } from "./cgroup-v1.ts";
import { createCgroupV2Driver } from "./cgroup-v2.ts";

/** The cgroup layout of a host. */
export type CgroupLayout =
  | { version: "v2"; root: string }
  | { version: "v1"; mounts: CgroupV1Mounts }
  | { version: "none" };

/** One mount of mountinfo: where, which filesystem, and its superblock options. */
interface Mount {
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

/** Mountinfo escapes space, tab, newline and backslash as octal (`\040`). */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(Number.parseInt(octal, 8)),
  );
}

function parseMountinfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(" ");
    // Optional fields end at "-"; the filesystem type, source and super options follow it.
    const separator = fields.indexOf("-", 6);
    const mountPoint = fields[4];
    const fsType = fields[separator + 1];
    if (separator < 0 || mountPoint === undefined || fsType === undefined) continue;
    mounts.push({
      mountPoint: unescapeMountField(mountPoint),
      fsType,
      superOptions: (fields[separator + 3] ?? "").split(","),
    });
  }
  return mounts;
}

/** The cgroup layout that `mountinfo` (the text of /proc/self/mountinfo) shows. */
export function probeCgroupLayout(mountinfo: string): CgroupLayout {
  const mounts = parseMountinfo(mountinfo);
  const unified = mounts.filter((mount) => mount.fsType === "cgroup2");
  if (unified.some((mount) => mount.mountPoint === "/sys/fs/cgroup")) {
    return { version: "v2", root: "/sys/fs/cgroup" };
  }
  const v1: CgroupV1Mounts = {};
  for (const mount of mounts) {
    if (mount.fsType !== "cgroup") continue;
    for (const limit of cgroupLimits) {
      if (mount.superOptions.includes(limit)) v1[limit] ??= mount.mountPoint;
    }
  }
  const freezer = mounts.find(
    (mount) => mount.fsType === "cgroup" && mount.superOptions.includes("freezer"),
  );
  if (Object.keys(v1).length > 0) {
    return {
      version: "v1",
      mounts: freezer ? { ...v1, freezer: freezer.mountPoint } : v1,
    };
  }
  const other = unified[0];
  return other ? { version: "v2", root: other.mountPoint } : { version: "none" };
}

/** A driver for hosts without any cgroup hierarchy: applies nothing, says so. */
function createNoCgroupDriver(): CgroupDriver {
  const missing: MissingLimit[] = cgroupLimits.map((limit) => ({
    limit,
    reason: "no cgroup hierarchy is mounted (/proc/self/mountinfo)",
  }));
  return {
    version: "none",
    missingLimits: async () => missing,
    create: async () => ({
      procsFiles: [],
      bwrapArgs: [],
      missing: [...cgroupLimits] as CgroupLimit[],
      killAll: async () => {},
      remove: async () => {},
    }),
  };
}

/** The driver for `layout`. */
export function createCgroupDriver(layout: CgroupLayout): CgroupDriver {
  if (layout.version === "v2") return createCgroupV2Driver({ root: layout.root });
  if (layout.version === "v1") return createCgroupV1Driver(layout.mounts);
  return createNoCgroupDriver();
}

/** The driver for this host, by its `/proc/self/mountinfo`. */
export function detectCgroupDriver(): CgroupDriver {
  let mountinfo = "";
  try {
    mountinfo = readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    // No /proc: no cgroups we could find either.
  }
  return createCgroupDriver(probeCgroupLayout(mountinfo));
}
