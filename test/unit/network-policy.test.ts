/** The egress policy's validation (server/network/policy.ts) as the create and update bodies apply it. */
import { describe, expect, it } from "vitest";
import { createSandboxBody, networkBody, validateBody } from "../../server/http/schemas.ts";
import {
  canonicalPolicy,
  hostNameAllowed,
  isBlockedAddress,
  parseCidr,
} from "../../server/network/policy.ts";

const refusal = (body: Record<string, unknown>) => {
  try {
    validateBody(networkBody, body);
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
};

describe("network policy bodies", () => {
  it("take the three policies, with CIDRs and host names in an allowlist", () => {
    expect(validateBody(networkBody, { egress: "internet" })).toEqual({ egress: "internet" });
    expect(validateBody(networkBody, { egress: "none" })).toEqual({ egress: "none" });
    const allow = [
      "203.0.113.0/24",
      "198.51.100.7",
      "example.com",
      "*.example.com",
      "a-b.c.example.org",
    ];
    expect(validateBody(networkBody, { egress: "allowlist", allow })).toEqual({
      egress: "allowlist",
      allow,
    });
    expect(
      validateBody(createSandboxBody, { name: "a", network: { egress: "none" } }),
    ).toMatchObject({
      network: { egress: "none" },
    });
  });

  it.each([
    ["10.0.0.0/8", "10.0.0.0/8"],
    ["10.213.0.0/16", "10.0.0.0/8"],
    ["192.168.1.1", "192.168.0.0/16"],
    ["172.20.0.0/16", "172.16.0.0/12"],
    ["100.64.0.0/10", "100.64.0.0/10"],
    ["169.254.169.254", "169.254.0.0/16"],
    ["127.0.0.1", "127.0.0.0/8"],
    ["224.0.0.251", "224.0.0.0/4"],
    ["0.0.0.0/0", "0.0.0.0/8"],
  ])("refuse the allow entry %s, inside the always-blocked %s, naming both", (entry, range) => {
    const message = refusal({ egress: "allowlist", allow: ["example.com", entry] });
    expect(message).toContain(`'${entry}'`);
    expect(message).toContain(range);
    expect(message).toMatch(/^the field 'allow'/);
  });

  it.each([
    "203.0.113.1/24",
    "203.0.113.0/33",
    "256.1.1.1",
    "203.0.113",
    "Example.com",
    "*.com",
    "exa mple.com",
    "example..com",
    "-bad.example.com",
    "a.*.example.com",
    "",
    "fc00::/7",
    "2001:db8::/32",
  ])("refuse the malformed or unsupported entry %j, naming it", (entry) => {
    const message = refusal({ egress: "allowlist", allow: [entry] });
    expect(message).toContain(`'${entry}'`);
  });

  it("refuse a list outside an allowlist, an unknown egress and an unknown field, naming the field", () => {
    expect(refusal({ egress: "internet", allow: ["example.com"] })).toMatch(
      /'allow'.*only.*allowlist/,
    );
    expect(refusal({ egress: "everything" })).toMatch(/'egress'/);
    expect(refusal({ egress: "none", extra: 1 })).toMatch(/'extra' is not defined/);
    expect(() =>
      validateBody(createSandboxBody, {
        name: "a",
        network: { egress: "allowlist", allow: ["10.1.2.3"] },
      }),
    ).toThrow(/'network\.allow'.*10\.1\.2\.3/);
  });

  it("store only what the policy uses: no list outside an allowlist, no duplicates", () => {
    expect(canonicalPolicy({ egress: "none" })).toEqual({ egress: "none" });
    expect(canonicalPolicy({ egress: "allowlist", allow: ["a.com", "a.com"] })).toEqual({
      egress: "allowlist",
      allow: ["a.com"],
    });
    expect(canonicalPolicy({ egress: "allowlist" })).toEqual({ egress: "allowlist", allow: [] });
  });
});

describe("names and addresses", () => {
  it("match a host name exactly, and a wildcard against subdomains only", () => {
    expect(hostNameAllowed("example.com", ["example.com"])).toBe(true);
    expect(hostNameAllowed("EXAMPLE.com.", ["example.com"])).toBe(true);
    expect(hostNameAllowed("www.example.com", ["example.com"])).toBe(false);
    expect(hostNameAllowed("a.example.com", ["*.example.com"])).toBe(true);
    expect(hostNameAllowed("a.b.example.com", ["*.example.com"])).toBe(true);
    expect(hostNameAllowed("example.com", ["*.example.com"])).toBe(false);
    expect(hostNameAllowed("badexample.com", ["*.example.com"])).toBe(false);
    expect(hostNameAllowed("203.0.113.5", ["203.0.113.0/24"])).toBe(false);
  });

  it("block every always-blocked address, the host's own, and anything not plain IPv4", () => {
    for (const address of [
      "10.1.2.3",
      "127.0.0.1",
      "169.254.169.254",
      "172.31.255.255",
      "192.168.0.1",
      "100.100.0.1",
      "224.0.0.1",
      "255.255.255.255",
      "0.0.0.0",
    ]) {
      expect({ address, blocked: isBlockedAddress(address) }).toEqual({ address, blocked: true });
    }
    expect(isBlockedAddress("203.0.113.9")).toBe(false);
    expect(isBlockedAddress("203.0.113.9", ["203.0.113.9"])).toBe(true);
    expect(isBlockedAddress("::1")).toBe(true);
    expect(isBlockedAddress("not an address")).toBe(true);
  });

  it("parse CIDRs with their host bits zero", () => {
    expect(parseCidr("203.0.113.0/24")).toEqual({
      start: 3405803776,
      end: 3405804031,
      text: "203.0.113.0/24",
    });
    expect(parseCidr("203.0.113.7")).toMatchObject({ text: "203.0.113.7/32" });
    expect(parseCidr("203.0.113.7/24")).toBeUndefined();
    expect(parseCidr("203.0.113.0/24/1")).toBeUndefined();
  });
});
