/**
 * The sandbox's `/etc`: a small generated directory (users, hosts, DNS, name service), never the
 * host's whole `/etc`. A few host entries that programs need and that hold no secrets are bound
 * over it read-only (see `etcBinds`).
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { slirpAddresses } from "../network/namespace.ts";

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

function files(): Record<string, string> {
  return {
    passwd:
      "root:x:0:0:root:/root:/usr/sbin/nologin\nuser:x:1000:1000:user:/home/user:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    group: "root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n",
    hosts: "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\tsandbox\n",
    hostname: "sandbox\n",
    // slirp4netns's resolver in every sandbox's namespace; it relays to the host's (server/network).
    "resolv.conf": `nameserver ${slirpAddresses.dns}\n`,
    "nsswitch.conf":
      "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n",
    shells: "/bin/sh\n/bin/bash\n",
  };
}

const generated = new Map<string, string>();

/**
 * Builds the generated `/etc` and returns its host path: one fresh `mkdtemp` directory per
 * content and server process (root-owned, world-readable, writable by the server alone), never a
 * predictable name another local user could pre-create. Removed when the process exits.
 */
export function generatedEtcDir(): string {
  const content = files();
  const key = JSON.stringify(content);
  const known = generated.get(key);
  if (known && existsSync(join(known, "passwd"))) return known;
  const dir = mkdtempSync(join(tmpdir(), "lumina-etc-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(content)) {
    writeFileSync(join(dir, name), text, { mode: 0o644 });
    chmodSync(join(dir, name), 0o644); // Whatever the umask: every sandbox uid reads these.
  }
  symlinkSync("/usr/share/zoneinfo/Etc/UTC", join(dir, "localtime"));
  // Mount points for the read-only binds of `etcBinds`.
  for (const host of etcBinds) {
    const name = host.slice("/etc/".length);
    if (!existsSync(host)) continue;
    if (statSync(host).isDirectory()) mkdirSync(join(dir, name));
    else writeFileSync(join(dir, name), "");
  }
  chmodSync(dir, 0o755);
  generated.set(key, dir);
  return dir;
}
