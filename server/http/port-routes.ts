/** The port routes of CONTRACT §10: expose, list and close the preview URLs of a sandbox. */
import type { Hono } from "hono";
import * as v from "valibot";
import { ServerError } from "../errors.ts";
import { defaultPreviewTtlMs } from "../previews/service.ts";
import type { AppEnv, AppServices } from "./app-types.ts";
import { readJsonBody } from "./request-body.ts";
import { exposePortBody, portNumber } from "./schemas.ts";

/** The origin the caller reached the server by: `path_url` is built on it. */
const originOf = (url: string) => new URL(url).origin;

/** Adds `POST/GET /v1/sandboxes/:name/ports` and `DELETE /v1/sandboxes/:name/ports/:port`. */
export function addPortRoutes(app: Hono<AppEnv>, services: AppServices): void {
  const { sandboxes, previews, idempotent } = services;

  app.post("/v1/sandboxes/:name/ports", idempotent, async (c) => {
    const record = sandboxes.find(c.get("user"), c.req.param("name"));
    const body = await readJsonBody(c.req.raw, services.bodyLimit, exposePortBody);
    const ttl = body.ttl_ms ?? defaultPreviewTtlMs;
    return c.json(previews.expose(record, body.port, ttl, originOf(c.req.url)), 201);
  });

  app.get("/v1/sandboxes/:name/ports", (c) => {
    const record = sandboxes.find(c.get("user"), c.req.param("name"));
    return c.json({ ports: previews.list(record, originOf(c.req.url)) });
  });

  app.delete("/v1/sandboxes/:name/ports/:port", idempotent, (c) => {
    const record = sandboxes.find(c.get("user"), c.req.param("name"));
    const text = c.req.param("port");
    const port = v.safeParse(portNumber, /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN);
    if (!port.success) throw new ServerError("invalid_request", "the port must be 1-65535");
    previews.close(record, port.output);
    return c.body(null, 204);
  });
}
