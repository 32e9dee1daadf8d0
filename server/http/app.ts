/**
 * The HTTP app: CORS, authentication, the routes of CONTRACT §3, and one JSON error shape for
 * every failure (unknown routes, wrong methods and crashes included; never a stack trace).
 */
import type { HttpBindings } from "@hono/node-server";
import { Hono } from "hono";
import { cors } from "hono/cors";
import { ServerError } from "../errors.ts";
import type { AppEnv, AppServices } from "./app-types.ts";
import { errorResponse, toWireError } from "./errors.ts";
import { buildOpenApiDocument } from "./openapi.ts";
import { addPortRoutes } from "./port-routes.ts";
import { newRequestId, requestIdHeader, runAsRequest } from "./request-id.ts";
import { addSandboxRoutes } from "./sandbox-routes.ts";
import { addSnapshotRoutes } from "./snapshot-routes.ts";
import { addToolRoutes } from "./tool-routes.ts";
import { addTransferRoutes } from "./transfer-routes.ts";

/** Each route pattern with the methods it answers, to tell a 405 from a 404. */
const routeMethods: [RegExp, string[]][] = [
  [/^\/v1\/health\/?$/, ["GET", "HEAD"]],
  [/^\/v1\/openapi\.json\/?$/, ["GET", "HEAD"]],
  [/^\/v1\/sandboxes\/?$/, ["GET", "HEAD", "POST"]],
  [/^\/v1\/sandboxes\/[^/]+\/?$/, ["GET", "HEAD", "DELETE"]],
  [/^\/v1\/sandboxes\/[^/]+\/restart\/?$/, ["POST"]],
  [/^\/v1\/sandboxes\/[^/]+\/(snapshots|fork)\/?$/, ["POST"]],
  [/^\/v1\/snapshots\/?$/, ["GET", "HEAD"]],
  [/^\/v1\/snapshots\/[^/]+\/?$/, ["GET", "HEAD", "DELETE"]],
  [/^\/v1\/sandboxes\/[^/]+\/ports\/?$/, ["GET", "HEAD", "POST"]],
  [/^\/v1\/sandboxes\/[^/]+\/ports\/[^/]+\/?$/, ["DELETE"]],
  [/^\/v1\/sandboxes\/[^/]+\/tools\/[^/]+\/?$/, ["POST"]],
  [/^\/v1\/sandboxes\/[^/]+\/(files|archive)\/?$/, ["GET", "HEAD", "PUT"]],
  [/^\/v1\/calls\/[^/]+\/?$/, ["DELETE"]],
];

/** Builds the app over the given services. */
export function createApp(services: AppServices): Hono<AppEnv> {
  const app = new Hono<AppEnv>({ strict: false });
  const { log } = services;

  app.use("*", async (c, next) => {
    const id = newRequestId();
    await runAsRequest(id, next);
    c.res.headers.set(requestIdHeader, id);
  });
  app.use(
    "*",
    cors({
      origin: services.corsOrigins.includes("*") ? "*" : services.corsOrigins,
      allowMethods: ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"],
      allowHeaders: [
        "Authorization",
        "Content-Type",
        "Lumina-Tool-Session",
        "Idempotency-Key",
        "Range",
      ],
      exposeHeaders: [
        "Retry-After",
        requestIdHeader,
        "Idempotent-Replayed",
        "Content-Range",
        "Accept-Ranges",
      ],
      maxAge: 600,
    }),
  );

  app.get("/v1/health", (c) => c.json({ status: "ok", version: services.version }));
  // CONTRACT §8: the document is public, like health; built once, it never changes while serving.
  const openApi = buildOpenApiDocument(services.version);
  app.get("/v1/openapi.json", (c) => c.json(openApi));

  const authenticate = async (
    c: {
      req: { header(name: string): string | undefined };
      set(key: "user", value: string): void;
      env: unknown;
    },
    next: () => Promise<void>,
  ) => {
    c.set("user", await services.authenticator.authenticate(c.req.header("authorization")));
    // A connection that carried valid credentials no longer counts as an anonymous one.
    const socket = (c.env as Partial<HttpBindings> | undefined)?.incoming?.socket;
    if (socket) services.connections?.authenticated(socket);
    await next();
  };
  app.use("/v1/sandboxes", authenticate);
  app.use("/v1/sandboxes/*", authenticate);
  app.use("/v1/snapshots", authenticate);
  app.use("/v1/snapshots/*", authenticate);
  app.use("/v1/calls/*", authenticate);
  addSandboxRoutes(app, services);
  addSnapshotRoutes(app, services);
  addPortRoutes(app, services);
  addToolRoutes(app, services);
  addTransferRoutes(app, services);

  app.notFound((c) => {
    const allowed = routeMethods.find(([pattern]) => pattern.test(c.req.path))?.[1];
    if (allowed) {
      return errorResponse(
        {
          status: 405,
          code: "method_not_allowed",
          message: `${c.req.method} is not allowed here; use ${allowed.join(" or ")}`,
        },
        { allow: allowed.join(", ") },
      );
    }
    return errorResponse({
      status: 404,
      code: "not_found",
      message: `no route ${c.req.method} ${c.req.path.slice(0, 200)}; see CONTRACT §3`,
    });
  });

  app.onError((error, c) => {
    // Tells the exactly-once record that this 503 is not a refusal but a call cut short.
    if (error instanceof ServerError && error.mayHaveRun) c.set("callTaken", true);
    return errorResponse(toWireError(error, log));
  });
  return app;
}
