/** The sandbox lifecycle routes of CONTRACT §3. */
import type { Hono } from "hono";
import { canonicalPolicy } from "../network/policy.ts";
import type { AppEnv, AppServices } from "./app-types.ts";
import { readJsonBody } from "./request-body.ts";
import { createSandboxBody, networkBody } from "./schemas.ts";

/** Adds `POST/GET /v1/sandboxes`, `GET/DELETE /v1/sandboxes/:name`, `…/restart` and `…/network`. */
export function addSandboxRoutes(app: Hono<AppEnv>, services: AppServices): void {
  const { sandboxes, idempotent } = services;

  // Sent by the SDK when its caller aborts a keyed call: stops it as a hang-up did (§3).
  app.delete("/v1/calls/:key", (c) => {
    services.cancelCall(c.get("user"), c.req.param("key"));
    return c.body(null, 204);
  });

  app.post("/v1/sandboxes", idempotent, async (c) => {
    const body = await readJsonBody(c.req.raw, services.bodyLimit, createSandboxBody);
    const { resources } = body;
    const request = {
      eager: body.eager ?? true,
      idleTimeoutMs: body.idle_timeout,
      resources: resources && {
        cpus: resources.cpus,
        memoryMb: resources.memory_mb,
        diskMb: resources.disk_mb,
      },
      network: body.network && canonicalPolicy(body.network),
    };
    const user = c.get("user");
    const record = body.from_snapshot
      ? await services.snapshots.createFrom(user, body.name, request, body.from_snapshot)
      : await sandboxes.create(user, body.name, request);
    // The lease says where the sandbox runs; it never names host paths or uids.
    return c.json(
      { sandbox: sandboxes.view(record), lease: { backend: services.backendKind } },
      201,
    );
  });

  app.get("/v1/sandboxes", (c) =>
    c.json({ sandboxes: sandboxes.list(c.get("user")).map((record) => sandboxes.view(record)) }),
  );

  app.get("/v1/sandboxes/:name", (c) =>
    c.json({ sandbox: sandboxes.view(sandboxes.find(c.get("user"), c.req.param("name"))) }),
  );

  app.post("/v1/sandboxes/:name/restart", idempotent, async (c) => {
    const record = sandboxes.find(c.get("user"), c.req.param("name"));
    await sandboxes.restart(record);
    return c.json({ sandbox: sandboxes.view(record) });
  });

  // The new policy holds for every connection the sandbox opens from now on (CONTRACT §9).
  app.post("/v1/sandboxes/:name/network", idempotent, async (c) => {
    const record = sandboxes.find(c.get("user"), c.req.param("name"));
    const body = await readJsonBody(c.req.raw, services.bodyLimit, networkBody);
    await sandboxes.updateNetwork(record, canonicalPolicy(body));
    return c.json({ sandbox: sandboxes.view(record) });
  });

  app.delete("/v1/sandboxes/:name", idempotent, async (c) => {
    await sandboxes.destroy(sandboxes.find(c.get("user"), c.req.param("name")));
    return c.body(null, 204);
  });
}
