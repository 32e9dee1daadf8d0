import * as v from "valibot";
import { camelize, parseAnswer } from "./parse.ts";

/** A sandbox's state: starting up, running, or stopped (also a lazily created one not yet used). */
export type SandboxStatus = "starting" | "running" | "stopped";

/** The server's details of a sandbox lease, keys in camelCase; their fields depend on the server. */
export type SandboxLease = Readonly<Record<string, unknown>>;

/** What a sandbox may use (CONTRACT §12). */
export interface SandboxResources {
  /** CPU time in cores (fractions allowed); 0: no CPU limit. */
  cpus: number;
  /** Memory of all its processes together, in MiB. */
  memoryMb: number;
  /** The size of `/home/user`, in MiB; 0: no disk quota. */
  diskMb: number;
}

/**
 * What a sandbox may connect to (CONTRACT §9): the public internet, nothing, or only the
 * `allow` entries: IPv4 CIDRs (`"203.0.113.0/24"`) and host names (`"example.com"`,
 * `"*.example.com"`), the latter checked by the name each connection asks for (TLS SNI, HTTP
 * Host). The host, other sandboxes, private, link-local and multicast addresses are never
 * reachable, whatever the policy.
 */
export interface NetworkPolicy {
  /** `"internet"`, `"none"` (every outbound connection fails at once) or `"allowlist"`. */
  egress: "internet" | "none" | "allowlist";
  /** The entries an `"allowlist"` lets through. */
  allow?: string[] | undefined;
}

/** A sandbox as the server describes it. */
export interface SandboxInfo {
  /** The sandbox name. */
  name: string;
  /** Its state. */
  status: SandboxStatus;
  /** When it was created, as the server wrote it (ISO 8601). */
  createdAt: string;
  /** Idle time in ms after which it stops (its next tool call starts it again); 0: never. */
  idleTimeout?: number | undefined;
  /** When it was last used: a request for it, or a background command still running (ISO 8601). */
  lastActivityAt?: string | undefined;
  /** What it may use. */
  resources?: SandboxResources | undefined;
  /** Its egress policy (sent by servers of contract v2 and later). */
  network?: NetworkPolicy | undefined;
  /** The lease, which `createSandbox` returns when the server sends one. */
  lease?: SandboxLease;
}

const sandbox = v.object({
  name: v.string(),
  status: v.picklist(["starting", "running", "stopped"]),
  created_at: v.string(),
  idle_timeout: v.optional(v.number()),
  last_activity_at: v.optional(v.string()),
  resources: v.optional(v.object({ cpus: v.number(), memory_mb: v.number(), disk_mb: v.number() })),
  network: v.optional(
    v.object({
      egress: v.picklist(["internet", "none", "allowlist"]),
      allow: v.optional(v.array(v.string())),
    }),
  ),
});

// The lease is opaque: any object is kept, anything else dropped.
const created = /* @__PURE__ */ v.object({ sandbox, lease: /* @__PURE__ */ v.unknown() });
const one = v.object({ sandbox });
const list = v.object({ sandboxes: v.array(sandbox) });

/** The answer schemas of the sandbox routes (the wire's single definition). */
export const sandboxAnswers: Readonly<Record<"created" | "one" | "list", v.GenericSchema>> = {
  created,
  one,
  list,
};

/** A sandbox as the wire describes it: `SandboxInfo` without the lease. */
type WireSandbox = Omit<SandboxInfo, "lease">;

/** Validates and maps the answer of `POST /v1/sandboxes`: the sandbox, with its lease if any. */
export function toCreatedSandbox(body: unknown): SandboxInfo {
  const { sandbox } = parseAnswer<{ sandbox: WireSandbox }, typeof one>(
    one,
    body,
    "create sandbox",
  );
  // `created` takes any lease as it is; reading it here spares the entry `v.unknown`.
  const { lease } = body as { lease?: unknown };
  return typeof lease === "object" && lease
    ? { ...sandbox, lease: camelize(lease) as SandboxLease }
    : sandbox;
}

/** Validates and maps the answer of `GET /v1/sandboxes/{name}` and of its restart. */
export function toSandbox(body: unknown): SandboxInfo {
  return parseAnswer<{ sandbox: WireSandbox }, typeof one>(one, body, "sandbox").sandbox;
}

/** Validates and maps the answer of `GET /v1/sandboxes`. */
export function toSandboxList(body: unknown): SandboxInfo[] {
  return parseAnswer<{ sandboxes: WireSandbox[] }, typeof list>(list, body, "list sandboxes")
    .sandboxes;
}
