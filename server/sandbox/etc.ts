/**
 * The sandbox's `/etc`: a small generated directory (users, hosts, DNS, name service), never the
 * host's whole `/etc`. A few host entries that programs need and that hold no secrets are bound
 * over it read-only (see `etcBinds`).
 */
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Host paths bound read-only at the same place inside (skipped when missing). */
export const etcBinds: readonly string[] = [
  "/etc/ssl",
  "/etc/ca-certificates",
  "/etc/alternatives",
  "/etc/ld.so.cache",
  "/etc/ld.so.conf",
  "/etc/ld.so.conf.d",
  "/etc/mime.types",
];

function hostResolvConf(): string {
  try {
    const text = readFileSync("/etc/resolv.conf", "utf8");
    // Only resolver lines: the host's file may carry comments naming internal infrastructure.
    return text
      .split("\n")
      .filter((line) => /^\s*(nameserver|search|options|domain)\s/.test(line))
      .join("\n")
      .concat("\n");
  } catch {
    return "nameserver 1.1.1.1\n";
  }
}

function files(): Record<string, string> {
  return {
    passwd:
      "root:x:0:0:root:/root:/usr/sbin/nologin\nuser:x:1000:1000:user:/home/user:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    group: "root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n",
    hosts: "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\tsandbox\n",
    hostname: "sandbox\n",
    "resolv.conf": hostResolvConf(),
    "nsswitch.conf":
      "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n",
    shells: "/bin/sh\n/bin/bash\n",
  };
}

let generated: string | undefined;

/** Builds the generated `/etc` (once per content, root-owned, world-readable) and returns its host path. */
export function generatedEtcDir(): string {
  const content = files();
  const hash = createHash("sha256").update(JSON.stringify(content)).digest("hex").slice(0, 16);
  const dir = join(tmpdir(), `lumina-etc-${hash}`);
  if (generated === dir && existsSync(join(dir, "passwd"))) return dir;
  if (!existsSync(join(dir, "passwd"))) {
    const partial = `${dir}.${process.pid}.tmp`;
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { mode: 0o755 });
    for (const [name, text] of Object.entries(content)) {
      writeFileSync(join(partial, name), text, { mode: 0o644 });
    }
    symlinkSync("/usr/share/zoneinfo/Etc/UTC", join(partial, "localtime"));
    // Mount points for the read-only binds of `etcBinds`.
    for (const host of etcBinds) {
      const name = host.slice("/etc/".length);
      if (!existsSync(host)) continue;
      if (statSync(host).isDirectory()) mkdirSync(join(partial, name));
      else writeFileSync(join(partial, name), "", { mode: 0o644 });
    }
    try {
      renameSync(partial, dir);
    } catch {
      rmSync(partial, { recursive: true, force: true }); // Another server won the race.
    }
  }
  generated = dir;
  return dir;
}
