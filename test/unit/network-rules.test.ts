/**
 * The nft rule set of a sandbox namespace (server/network/rules.ts): what each policy lets out,
 * and that nft itself accepts every generated script (checked in a throwaway namespace, as root).
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { alwaysBlockedCidrs, type NetworkPolicy } from "../../server/network/policy.ts";
import { sandboxRuleset } from "../../server/network/rules.ts";

const rules = (policy: NetworkPolicy) =>
  sandboxRuleset({
    policy,
    hostAddresses: ["192.0.2.10", "198.51.100.20"],
    gateway: "10.0.2.2",
    dns: "10.0.2.3",
    proxyPort: 41234,
  });
const outbound = (text: string) =>
  text.slice(text.indexOf("chain outbound"), text.indexOf("chain refused"));
const policies: NetworkPolicy[] = [
  { egress: "internet" },
  { egress: "none" },
  { egress: "allowlist", allow: ["example.com"] },
  { egress: "allowlist", allow: ["203.0.113.0/24", "*.example.com"] },
];

describe("the sandbox rule set", () => {
  it.each(policies)(
    "blocks every always-blocked range and the host's own addresses first, for %j",
    (policy) => {
      const text = rules(policy);
      const blocked = /set blocked \{[^}]*elements = \{ ([^}]*) \}/.exec(text)?.[1]?.split(", ");
      expect(blocked).toEqual([...alwaysBlockedCidrs, "192.0.2.10", "198.51.100.20"]);
      const out = outbound(text);
      // Nothing but loopback, replies, DNS and the proxy is accepted before the blocked ranges go.
      const beforeBlocked = out.slice(0, out.indexOf("@blocked goto refused"));
      expect(beforeBlocked).not.toMatch(/^\s+accept$/m);
      expect(out).toContain("policy drop;");
      expect(text).toMatch(/chain inbound \{\s+type filter hook input priority 0; policy drop;/);
      expect(text).toContain("meta nfproto ipv6 reject");
    },
  );

  it("internet: accepts the rest, with DNS; no redirect", () => {
    const out = outbound(rules({ egress: "internet" }));
    expect(out).toContain("ip daddr 10.0.2.3 meta l4proto { tcp, udp } th dport 53 accept");
    expect(out).toMatch(/@blocked goto refused\n\s+accept\n/);
    expect(rules({ egress: "internet" })).not.toContain("dnat");
  });

  it("none: refuses everything, DNS included, at once (reset or ICMP, never a silent drop)", () => {
    const text = rules({ egress: "none" });
    expect(outbound(text)).not.toContain("dport 53");
    expect(outbound(text)).not.toMatch(/^\s+accept$/m);
    expect(outbound(text)).toMatch(/goto refused\n {2}\}/);
    expect(text).toContain("meta l4proto tcp reject with tcp reset");
    expect(text).not.toContain("dnat");
  });

  it("allowlist: web traffic to the proxy, listed CIDRs accepted, the rest refused", () => {
    const text = rules({ egress: "allowlist", allow: ["203.0.113.0/24", "*.example.com"] });
    expect(text).toContain(
      "set allowed { type ipv4_addr; flags interval; auto-merge; elements = { 203.0.113.0/24 } }",
    );
    expect(text).toContain("ip daddr @allowed return");
    expect(text).toContain("ip daddr != @blocked tcp dport { 80, 443 } dnat ip to 10.0.2.2:41234");
    const out = outbound(text);
    expect(out).toContain("ip daddr 10.0.2.2 tcp dport 41234 ct status dnat accept");
    expect(out).toContain("ip daddr @allowed accept");
    expect(out).not.toMatch(/^\s+accept$/m);
    expect(text).not.toContain("example.com");
    // Host names only: no set of CIDRs at all.
    expect(rules({ egress: "allowlist", allow: ["example.com"] })).not.toContain("@allowed");
  });

  const root = process.getuid?.() === 0 && !spawnSync("nft", ["--version"]).error;
  it.skipIf(!root).each(policies)("is a script nft accepts, for %j", (policy) => {
    // `nft -c` only checks; `unshare -n` makes a namespace that vanishes with the process.
    const check = spawnSync("unshare", ["-n", "nft", "-c", "-f", "-"], {
      input: rules(policy),
      timeout: 10_000,
    });
    expect(check.stderr.toString()).toBe("");
    expect(check.status).toBe(0);
  });
});

describe("the network tools check", () => {
  it("refuses a host without them, naming each tool and its package", async () => {
    const { requireNetworkTools } = await import("../../server/network/namespace.ts");
    await expect(requireNetworkTools("/nonexistent")).rejects.toThrow(
      /slirp4netns \(apt-get install slirp4netns\).*nft \(apt-get install nftables\).*--isolation none/,
    );
  });
});
