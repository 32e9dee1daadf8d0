/** The snapshot and fork routes of CONTRACT §12. */
import type { Hono } from "hono";
import type { AppEnv, AppServices } from "./app-types.ts";
import { parseStrictJsonObject, readLimitedBody, requireJsonContentType } from "./json-body.ts";
import { readJsonBody } from "./request-body.ts";
import { forkBody, snapshotBody, validateBody } from "./schemas.ts";

/** Adds `POST …/{name}/snapshots`, `POST …/{name}/fork` and `GET/DELETE /v1/snapshots[/{id}]`. */
export function addSnapshotRoutes(app: Hono<AppEnv>, services: AppServices): void {
  const { sandboxes, snapshots, idempotent } = services;

  app.post("/v1/sandboxes/:name/snapshots", idempotent, async (c) => {
    // The body is optional (`label` is all it has): an empty one is `{}`.
    const text = await readLimitedBody(c.req.raw, services.bodyLimit);
    if (text.trim() !== "") requireJsonContentType(c.req.raw);
    const body = validateBody(snapshotBody, text.trim() ? parseStrictJsonObject(text) : {});
    const user = c.get("user");
    const record = await snapshots.take(
      user,
      sandboxes.find(user, c.req.param("name")),
      body.label ?? null,
    );
    return c.json({ snapshot: snapshots.view(record) }, 201);
  });

  app.post("/v1/sandboxes/:name/fork", idempotent, async (c) => {
    const body = await readJsonBody(c.req.raw, services.bodyLimit, forkBody);
    const user = c.get("user");
    const source = sandboxes.find(user, c.req.param("name"));
    const record = await snapshots.fork(user, source, body.name, body.eager ?? true);
    return c.json({ sandbox: sandboxes.view(record) }, 201);
  });

  app.get("/v1/snapshots", (c) =>
    c.json({ snapshots: snapshots.list(c.get("user")).map((record) => snapshots.view(record)) }),
  );

  app.get("/v1/snapshots/:id", (c) =>
    c.json({ snapshot: snapshots.view(snapshots.find(c.get("user"), c.req.param("id"))) }),
  );

  app.delete("/v1/snapshots/:id", idempotent, async (c) => {
    await snapshots.remove(snapshots.find(c.get("user"), c.req.param("id")));
    return c.body(null, 204);
  });
}
