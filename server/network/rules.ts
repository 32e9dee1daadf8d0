/**
 * The nftables rule set of one sandbox's network namespace, as a pure function of its policy.
 * It is loaded into the sandbox's own namespace (never the host's), where the sandbox holds no
 * capability, and replaced whole and atomically on every change of policy.
 *
 * Behind the namespace is slirp4netns (server/network/namespace.ts): `gateway` is the host as the
 * sandbox sees it (its loopback), `dns` the resolver slirp4netns relays to the host's.
 */
import { alwaysBlockedCidrs, isHostNameEntry, type NetworkPolicy } from "./policy.ts";

/** The name of the nft table inside every sandbox namespace. */
export const sandboxTable = "lumina_sandbox";

/** What the rule set depends on besides the policy. */
export interface RulesetInput {
  policy: NetworkPolicy;
  /** The host's own IPv4 addresses (blocked too: they reach the host's services). */
  hostAddresses: readonly string[];
  /** The slirp4netns gateway address (maps to the host's loopback). */
  gateway: string;
  /** The slirp4netns DNS address. */
  dns: string;
  /** The host loopback port of this sandbox's allowlist proxy. */
  proxyPort: number;
}

/** The nft script (for `nft -f -`) that makes the namespace enforce `input.policy`. */
export function sandboxRuleset(input: RulesetInput): string {
  const { policy, gateway, dns, proxyPort } = input;
  const blocked = [...alwaysBlockedCidrs, ...input.hostAddresses].join(", ");
  const cidrs = (policy.allow ?? []).filter((entry) => !isHostNameEntry(entry));
  const allowlist = policy.egress === "allowlist";
  const lines = [
    // Created empty first so the delete never fails: the whole script is one transaction.
    `table inet ${sandboxTable} {}`,
    `delete table inet ${sandboxTable}`,
    `table inet ${sandboxTable} {`,
    `  set blocked { type ipv4_addr; flags interval; auto-merge; elements = { ${blocked} } }`,
  ];
  if (cidrs.length > 0) {
    lines.push(
      `  set allowed { type ipv4_addr; flags interval; auto-merge; elements = { ${cidrs.join(", ")} } }`,
    );
  }
  lines.push("  chain to_proxy {", "    type nat hook output priority -100; policy accept;");
  if (allowlist) {
    lines.push('    oifname "lo" return');
    if (cidrs.length > 0) lines.push("    ip daddr @allowed return");
    // Web traffic to any other address goes to the proxy, which decides by the name it carries.
    lines.push(`    ip daddr != @blocked tcp dport { 80, 443 } dnat ip to ${gateway}:${proxyPort}`);
  }
  lines.push("  }", "  chain outbound {", "    type filter hook output priority 0; policy drop;");
  lines.push('    oifname "lo" accept');
  lines.push("    meta nfproto ipv6 reject with icmpx admin-prohibited");
  // Only connections already allowed carry on after a change of policy; new ones are checked.
  lines.push("    ct state established,related accept");
  if (policy.egress !== "none") {
    lines.push(`    ip daddr ${dns} meta l4proto { tcp, udp } th dport 53 accept`);
  }
  if (allowlist) lines.push(`    ip daddr ${gateway} tcp dport ${proxyPort} ct status dnat accept`);
  lines.push("    ip daddr @blocked goto refused");
  if (policy.egress === "internet") lines.push("    accept");
  if (allowlist && cidrs.length > 0) lines.push("    ip daddr @allowed accept");
  if (policy.egress !== "internet") lines.push("    goto refused");
  lines.push("  }");
  // Refused at once (a reset, an ICMP error), so a blocked attempt fails fast instead of hanging.
  lines.push(
    "  chain refused {",
    "    meta l4proto tcp reject with tcp reset",
    "    reject with icmpx admin-prohibited",
    "  }",
  );
  // Nothing outside may open a connection into the sandbox.
  lines.push(
    "  chain inbound {",
    "    type filter hook input priority 0; policy drop;",
    '    iifname "lo" accept',
    "    ct state established,related accept",
    "  }",
    "}",
  );
  return `${lines.join("\n")}\n`;
}
