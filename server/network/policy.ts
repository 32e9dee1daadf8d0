/**
 * Egress policies (CONTRACT §9) and the address ranges no sandbox may ever reach: pure data and
 * checks, shared by the body validation, the namespace rules and the allowlist proxy.
 */
import * as v from "valibot";

/** What a sandbox may connect to outside itself. */
export type EgressMode = "internet" | "none" | "allowlist";

/** A sandbox's egress policy as stored and sent on the wire. */
export interface NetworkPolicy {
  egress: EgressMode;
  /** CIDRs and host names (`*.example.com` for any subdomain); only with `allowlist`. */
  allow?: string[];
}

/** An IPv4 range as two 32-bit numbers. */
export interface Ipv4Range {
  /** The first address. */
  start: number;
  /** The last address. */
  end: number;
  /** How it was written (`10.0.0.0/8`). */
  text: string;
}

/**
 * The IPv4 ranges that are always unreachable from a sandbox whatever its policy: "this"
 * network, private, shared (CGNAT), loopback, link-local (cloud metadata), the IETF, test and
 * benchmarking nets, multicast, reserved and broadcast.
 */
export const alwaysBlockedCidrs: readonly string[] = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.168.0.0/16",
  "198.18.0.0/15",
  "224.0.0.0/4",
  "240.0.0.0/4",
];

const octet = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const ipv4Pattern = new RegExp(`^${octet}(\\.${octet}){3}$`);

/** The address as a 32-bit number, or undefined when it is not a dotted IPv4 address. */
export function parseIpv4(address: string): number | undefined {
  if (!ipv4Pattern.test(address)) return undefined;
  return address.split(".").reduce((sum, part) => sum * 256 + Number(part), 0);
}

/** `a.b.c.d/len` (or a bare address, as /32) as a range; undefined when malformed or unaligned. */
export function parseCidr(text: string): Ipv4Range | undefined {
  const [address = "", length = "32", extra] = text.split("/");
  if (extra !== undefined || !/^(3[0-2]|[12]?\d)$/.test(length)) return undefined;
  const start = parseIpv4(address);
  if (start === undefined) return undefined;
  const size = 2 ** (32 - Number(length));
  if (start % size !== 0) return undefined;
  return { start, end: start + size - 1, text: `${address}/${length}` };
}

const blockedRanges = alwaysBlockedCidrs.map((text) => parseCidr(text) as Ipv4Range);

/** The always-blocked range that overlaps `range`, if any. */
export function blockedOverlap(range: Ipv4Range): Ipv4Range | undefined {
  return blockedRanges.find((blocked) => range.start <= blocked.end && blocked.start <= range.end);
}

/** Whether a sandbox may never reach this address (always-blocked, or one of `extra`). */
export function isBlockedAddress(address: string, extra: readonly string[] = []): boolean {
  const value = parseIpv4(address);
  // Anything but a plain IPv4 address (IPv6, garbage) fails closed: sandboxes have no IPv6.
  if (value === undefined) return true;
  if (extra.includes(address)) return true;
  return blockedRanges.some((range) => value >= range.start && value <= range.end);
}

const label = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?";
const hostNamePattern = new RegExp(`^(\\*\\.)?(${label}\\.)+${label}$`);

/** Whether `entry` is a host-name entry (`example.com`, `*.example.com`) rather than a CIDR. */
export function isHostNameEntry(entry: string): boolean {
  return hostNamePattern.test(entry) && entry.length <= 253 && !/^[\d.*]+$/.test(entry);
}

/** Why an allow entry is refused, or undefined when it is fine. */
export function allowEntryProblem(entry: string): string | undefined {
  if (isHostNameEntry(entry)) return undefined;
  if (entry.includes(":")) return `'${entry}': IPv6 egress is not supported; give an IPv4 CIDR`;
  const range = parseCidr(entry);
  if (!range) {
    return `'${entry}' is neither a host name (lowercase, e.g. 'example.com' or '*.example.com') nor an IPv4 CIDR such as '203.0.113.0/24' (with its host bits zero)`;
  }
  const blocked = blockedOverlap(range);
  if (blocked) {
    return `'${entry}' reaches into ${blocked.text}, which sandboxes can never reach; allow only public addresses`;
  }
  return undefined;
}

/** Whether `name` (from a TLS SNI or HTTP Host) is allowed by one of the host-name entries. */
export function hostNameAllowed(name: string, allow: readonly string[]): boolean {
  const host = name.toLowerCase().replace(/\.$/, "");
  return allow.some((entry) => {
    if (!isHostNameEntry(entry)) return false;
    if (!entry.startsWith("*.")) return host === entry;
    return host.endsWith(entry.slice(1)) && host.length > entry.length - 1;
  });
}

/** The most entries one allowlist may hold. */
export const maxAllowEntries = 256;

/** The wire schema of a policy (`network` of a create body, the body of `…/network`). */
export const networkPolicySchema = v.pipe(
  v.strictObject({
    egress: v.picklist(
      ["internet", "none", "allowlist"],
      "must be 'internet', 'none' or 'allowlist'",
    ),
    allow: v.optional(
      v.pipe(
        v.array(v.string("must hold strings"), "must be an array of strings"),
        v.maxLength(maxAllowEntries, `must hold at most ${maxAllowEntries} entries`),
      ),
    ),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const { egress, allow } = dataset.value;
    if (allow !== undefined && egress !== "allowlist") {
      addIssue({
        message: "is only taken with egress 'allowlist'",
        path: pathOf(dataset, "allow"),
      });
      return;
    }
    for (const entry of allow ?? []) {
      const problem = allowEntryProblem(entry);
      if (problem) return addIssue({ message: problem, path: pathOf(dataset, "allow") });
    }
  }),
);

// An issue path pointing at one key of the checked object, so the 400 names the field.
function pathOf(dataset: { value: unknown }, key: string): [v.ObjectPathItem] {
  const value = (dataset.value as Record<string, unknown>)[key];
  return [{ type: "object", origin: "value", input: dataset.value as never, key, value }];
}

/** The policy in its stored, canonical form: `allow` only for allowlists, deduplicated. */
export function canonicalPolicy(policy: {
  egress: EgressMode;
  allow?: string[] | undefined;
}): NetworkPolicy {
  if (policy.egress !== "allowlist") return { egress: policy.egress };
  return { egress: "allowlist", allow: [...new Set(policy.allow ?? [])] };
}
