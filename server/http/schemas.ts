/**
 * The request bodies of CONTRACT §3 as valibot schemas. They are strict (CONTRACT §8): a field an
 * endpoint does not define is a 400 naming it, so a typo or a misplaced option is never ignored.
 */
import * as v from "valibot";
import { ServerError } from "../errors.ts";
import { networkPolicySchema } from "../network/policy.ts";
import { maxPreviewTtlMs } from "../previews/service.ts";
import { body, flag, int, text } from "../tools/bodies.ts";

export { type ToolBody, type ToolName, toolBodies } from "../tools/bodies.ts";

/** Sandbox names: lowercase DNS-label style, so a name can never look like a host option. */
export const sandboxNamePattern: RegExp = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

const sandboxName = v.pipe(
  text,
  v.regex(
    sandboxNamePattern,
    "must be 1-63 characters of a-z, 0-9 and '-', starting and ending with a letter or digit",
  ),
);

/** `POST /v1/sandboxes`. */
export const createSandboxBody = body({
  name: sandboxName,
  eager: v.optional(flag),
  from_snapshot: v.optional(v.pipe(text, v.maxLength(200, "must be a snapshot id"))),
  // CONTRACT §12: 0 never stops; below 1 s the sweep could not honour it.
  idle_timeout: v.optional(
    v.union(
      [v.literal(0), int(1000, 2 ** 31)],
      "must be 0 (never stop) or a whole number of milliseconds from 1000 up",
    ),
  ),
  // The server's maxima are checked by the service, which knows them.
  resources: v.optional(
    body({
      cpus: v.optional(
        v.pipe(v.number("must be a number"), v.minValue(0.01, "must be at least 0.01")),
      ),
      memory_mb: v.optional(int(16)),
      disk_mb: v.optional(int(16)),
    }),
  ),
  network: v.optional(networkPolicySchema),
});

/** A TCP port number. */
export const portNumber = int(1, 65535);

/** `POST /v1/sandboxes/{name}/ports` (CONTRACT §10). */
export const exposePortBody = body({
  port: portNumber,
  ttl_ms: v.optional(int(1, maxPreviewTtlMs)),
});
/** `POST /v1/sandboxes/{name}/network`: the new egress policy. */
export const networkBody = networkPolicySchema;

/** `POST /v1/sandboxes/{name}/snapshots`. */
export const snapshotBody = body({
  label: v.optional(v.pipe(text, v.maxLength(200, "must be at most 200 characters"))),
});

/** `POST /v1/sandboxes/{name}/fork`. */
export const forkBody = body({ name: sandboxName, eager: v.optional(flag) });

/** Validates a parsed body, throwing a 400 that names the first offending field. */
export function validateBody<S extends v.GenericSchema>(
  schema: S,
  body: Record<string, unknown>,
): v.InferOutput<S> {
  const result = v.safeParse(schema, body);
  if (result.success) return result.output;
  const issue = result.issues[0];
  const field = issue.path?.map((item) => String(item.key)).join(".");
  if (issue.type === "strict_object" && issue.expected === "never" && field) {
    const known = "entries" in schema ? Object.keys(schema.entries as object).join(", ") : "";
    throw new ServerError(
      "invalid_request",
      `the field '${field}' is not defined for this endpoint; it takes: ${known}`,
    );
  }
  // A missing field shows up as a type issue on `undefined`.
  const missing = issue.input === undefined && issue.kind === "schema";
  const message = field
    ? missing
      ? `the field '${field}' is required`
      : `the field '${field}' ${issue.message}`
    : issue.message;
  throw new ServerError("invalid_request", message);
}
