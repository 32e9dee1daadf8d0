/**
 * The OpenAPI 3.1 document of the wire (CONTRACT §3 and §8), generated, never written by hand:
 * request bodies from the schemas the server validates with (./schemas.ts), answers from the
 * SDK's answer schemas (src/protocol), so the document cannot drift from either.
 */
import { toJsonSchema } from "@valibot/to-json-schema";
import * as v from "valibot";
import { bashAnswers } from "../../src/protocol/bash.ts";
import { fileAnswers } from "../../src/protocol/files.ts";
import { portAnswers } from "../../src/protocol/ports.ts";
import { sandboxAnswers } from "../../src/protocol/sandboxes.ts";
import { searchAnswers } from "../../src/protocol/search.ts";
import { snapshotAnswers } from "../../src/protocol/snapshots.ts";
import { sessionIdShape } from "../sessions/tool-sessions.ts";
import { transferOpenApi } from "./openapi-transfer.ts";
import { requestIdHeader } from "./request-id.ts";
import {
  createSandboxBody,
  exposePortBody,
  forkBody,
  networkBody,
  sandboxNamePattern,
  snapshotBody,
  type ToolName,
  toolBodies,
} from "./schemas.ts";
import { keyedTools } from "./tool-routes.ts";

/** An OpenAPI document: plain JSON. */
export type OpenApiDocument = Record<string, unknown>;

const healthAnswer = v.object({ status: v.literal("ok"), version: v.string() });
const errorAnswer = v.object({ error: v.object({ code: v.string(), message: v.string() }) });
const toolAnswers: Record<ToolName, v.GenericSchema> = {
  ...fileAnswers,
  ...searchAnswers,
  ...bashAnswers,
};

/** A schema as JSON Schema 2020-12, without `$schema` (the document's dialect applies). */
function jsonSchema(schema: v.GenericSchema): Record<string, unknown> {
  // Checks written as code (an allowlist entry's ranges) have no JSON Schema form; the 400 says them.
  const { $schema: _, ...rest } = toJsonSchema(schema, {
    target: "draft-2020-12",
    ignoreActions: ["raw_check"],
  });
  return rest;
}

const ref = (kind: string, name: string) => ({ $ref: `#/components/${kind}/${name}` });
const json = (schema: string) => ({ "application/json": { schema: ref("schemas", schema) } });
const requestIdOnly = { [requestIdHeader]: ref("headers", "RequestId") };
const replayed = { "Idempotent-Replayed": ref("headers", "IdempotentReplayed") };

/** A 2xx answer whose body is the named schema. */
function answer(description: string, schema: string) {
  return { description, headers: requestIdOnly, content: json(schema) };
}

/** The error answers an authenticated route can give, besides its own success. */
const errorStatuses = ["400", "401", "404", "409", "413", "429", "500", "503", "507"];
const errors = Object.fromEntries(
  errorStatuses.map((status) => [status, ref("responses", "Error")]),
);

function operation(
  operationId: string,
  summary: string,
  responses: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  return { operationId, summary, ...extra, responses: { ...responses, ...errors } };
}

/** What an operation that is not idempotent adds (CONTRACT §13): the key and its 422. */
const keyed = {
  parameters: [ref("parameters", "IdempotencyKey")],
  responses: { "422": ref("responses", "Error") },
};

/** An operation that is not idempotent: `Idempotency-Key` makes it exactly-once. */
function keyedOperation(
  operationId: string,
  summary: string,
  responses: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  const { parameters, ...rest } = extra as { parameters?: unknown[] };
  const marked = Object.fromEntries(
    Object.entries(responses).map(([status, answer]) => {
      const { headers, ...more } = answer as { headers?: Record<string, unknown> };
      return [status, { ...more, headers: { ...headers, ...replayed } }];
    }),
  );
  return operation(
    operationId,
    summary,
    { ...marked, ...keyed.responses },
    {
      ...rest,
      parameters: [...(parameters ?? []), ...keyed.parameters],
    },
  );
}

function body(schema: string) {
  return { requestBody: { required: true, content: json(schema) } };
}

const toolSummaries: Record<ToolName, string> = {
  read: "Read a file: numbered text lines, an image as base64, or a PDF as text per page",
  write: "Write a file (an existing one must have been read by this session)",
  edit: "Replace an exact string in a file (read by this session)",
  glob: "Find files by glob pattern, newest first",
  grep: "Search file contents (ripgrep semantics)",
  bash: "Run a command in the session's persistent shell, or start it in the background",
  bash_output: "Read new output of a background command (long-poll with wait_ms)",
  kill_bash: "Kill a background command and everything it started",
};

/** Builds the document for a server of `version`. */
export function buildOpenApiDocument(version: string): OpenApiDocument {
  const schemas: Record<string, unknown> = {
    Health: jsonSchema(healthAnswer),
    Error: jsonSchema(errorAnswer),
    CreateSandboxBody: jsonSchema(createSandboxBody),
    NetworkPolicy: jsonSchema(networkBody),
    CreatedSandbox: jsonSchema(sandboxAnswers.created),
    SandboxAnswer: jsonSchema(sandboxAnswers.one),
    SandboxList: jsonSchema(sandboxAnswers.list),
    SnapshotBody: jsonSchema(snapshotBody),
    ForkBody: jsonSchema(forkBody),
    SnapshotAnswer: jsonSchema(snapshotAnswers.one),
    SnapshotList: jsonSchema(snapshotAnswers.list),
    ExposePortBody: jsonSchema(exposePortBody),
    Port: jsonSchema(portAnswers.one),
    PortList: jsonSchema(portAnswers.list),
    OpenApiDocument: { type: "object", description: "This document." },
  };
  const paths: Record<string, unknown> = {
    "/v1/health": {
      get: {
        operationId: "health",
        summary: "Whether the server is up, and its version",
        security: [],
        responses: { "200": answer("The server is up", "Health") },
      },
    },
    "/v1/openapi.json": {
      get: {
        operationId: "openApi",
        summary: "This document",
        security: [],
        responses: { "200": answer("The OpenAPI document", "OpenApiDocument") },
      },
    },
    "/v1/sandboxes": {
      post: keyedOperation(
        "createSandbox",
        "Create a sandbox (409 sandbox_exists if the name is taken)",
        { "201": answer("The sandbox and its lease", "CreatedSandbox") },
        body("CreateSandboxBody"),
      ),
      get: operation("listSandboxes", "The user's sandboxes", {
        "200": answer("The sandboxes", "SandboxList"),
      }),
    },
    "/v1/sandboxes/{name}": {
      parameters: [ref("parameters", "SandboxName")],
      get: operation("getSandbox", "A sandbox", { "200": answer("The sandbox", "SandboxAnswer") }),
      delete: keyedOperation("destroySandbox", "Destroy a sandbox and its storage", {
        "204": { description: "Destroyed", headers: requestIdOnly },
      }),
    },
    "/v1/sandboxes/{name}/restart": {
      parameters: [ref("parameters", "SandboxName")],
      post: keyedOperation("restartSandbox", "End every process; /home/user is kept", {
        "200": answer("The sandbox", "SandboxAnswer"),
      }),
    },
    "/v1/sandboxes/{name}/snapshots": {
      parameters: [ref("parameters", "SandboxName")],
      post: keyedOperation(
        "snapshot",
        "Snapshot the whole /home/user at one instant (processes frozen meanwhile); the body is optional",
        { "201": answer("The snapshot", "SnapshotAnswer") },
        { requestBody: { required: false, content: json("SnapshotBody") } },
      ),
    },
    "/v1/sandboxes/{name}/fork": {
      parameters: [ref("parameters", "SandboxName")],
      post: keyedOperation(
        "forkSandbox",
        "Create a new sandbox from the current state of this one",
        { "201": answer("The new sandbox", "SandboxAnswer") },
        body("ForkBody"),
      ),
    },
    "/v1/snapshots": {
      get: operation("listSnapshots", "The user's snapshots", {
        "200": answer("The snapshots", "SnapshotList"),
      }),
    },
    "/v1/calls/{key}": {
      parameters: [{ name: "key", in: "path", required: true, schema: { type: "string" } }],
      delete: operation(
        "cancelCall",
        "Cancel the keyed call still running under this Idempotency-Key, as a hang-up would",
        {
          "204": {
            description: "Cancelled (or refused for a minute if not running yet)",
            headers: requestIdOnly,
          },
        },
      ),
    },
    "/v1/snapshots/{id}": {
      parameters: [ref("parameters", "SnapshotId")],
      get: operation("getSnapshot", "A snapshot", {
        "200": answer("The snapshot", "SnapshotAnswer"),
      }),
      delete: keyedOperation("deleteSnapshot", "Delete a snapshot and its files", {
        "204": { description: "Deleted", headers: requestIdOnly },
      }),
    },
    "/v1/sandboxes/{name}/ports": {
      parameters: [ref("parameters", "SandboxName")],
      post: keyedOperation(
        "exposePort",
        "Expose a port of the sandbox: preview URLs that reach it without credentials until expires_at",
        { "201": answer("The port and its preview URLs", "Port") },
        body("ExposePortBody"),
      ),
      get: operation("listPorts", "The sandbox's exposed ports that have not expired", {
        "200": answer("The ports", "PortList"),
      }),
    },
    "/v1/sandboxes/{name}/ports/{port}": {
      parameters: [ref("parameters", "SandboxName"), ref("parameters", "Port")],
      delete: keyedOperation("closePort", "Close a port: its preview URLs answer 404 from now on", {
        "204": { description: "Closed", headers: requestIdOnly },
      }),
    },
    "/v1/sandboxes/{name}/network": {
      parameters: [ref("parameters", "SandboxName")],
      post: operation(
        "updateNetwork",
        "Replace the sandbox's egress policy; new connections follow it at once",
        { "200": answer("The sandbox with its new policy", "SandboxAnswer") },
        body("NetworkPolicy"),
      ),
    },
  };
  for (const tool of Object.keys(toolBodies) as ToolName[]) {
    const name = tool.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
    const title = name[0]!.toUpperCase() + name.slice(1);
    schemas[`${title}Body`] = jsonSchema(toolBodies[tool]);
    schemas[`${title}Answer`] = jsonSchema(toolAnswers[tool]);
    paths[`/v1/sandboxes/{name}/tools/${tool}`] = {
      parameters: [ref("parameters", "SandboxName"), ref("parameters", "ToolSession")],
      post: (keyedTools.has(tool) ? keyedOperation : operation)(
        name,
        toolSummaries[tool],
        { "200": answer("The tool's answer", `${title}Answer`) },
        body(`${title}Body`),
      ),
    };
  }
  const transfers = transferOpenApi(jsonSchema, operation, answer, {
    sandbox: ref("parameters", "SandboxName"),
    requestId: requestIdOnly,
  });
  Object.assign(schemas, transfers.schemas);
  Object.assign(paths, transfers.paths);
  return {
    openapi: "3.1.0",
    info: {
      title: "Lumina sandbox API",
      version,
      description:
        "Isolated Linux sandboxes that agents drive over HTTP. Generated from the schemas the " +
        "server validates with; see docs/protocol.md.",
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description: "An API key (`user:key`) or an HS256 JWT whose `sub` names the user",
        },
      },
      parameters: {
        SandboxName: {
          name: "name",
          in: "path",
          required: true,
          schema: { type: "string", pattern: sandboxNamePattern.source },
        },
        SnapshotId: {
          name: "id",
          in: "path",
          required: true,
          schema: { type: "string" },
        },
        Port: {
          name: "port",
          in: "path",
          required: true,
          schema: { type: "integer", minimum: 1, maximum: 65535 },
        },
        IdempotencyKey: {
          name: "Idempotency-Key",
          in: "header",
          required: false,
          description:
            "Makes the call exactly-once: a repeat with the same key (same method, path and body) gets the first answer back, marked `Idempotent-Replayed: true`, and does nothing again; the same key with another request is a 422 `idempotency_mismatch`. Outcomes are kept per user for 24 hours (CONTRACT §13).",
          schema: { type: "string", pattern: "^[\\x21-\\x7e]{1,255}$" },
        },
        ToolSession: {
          name: "Lumina-Tool-Session",
          in: "header",
          required: true,
          description: "The tool session: read records, the shell and background commands",
          schema: { type: "string", pattern: sessionIdShape.source },
        },
      },
      headers: {
        RequestId: {
          description: "The id of this request, also in the server's log lines for it",
          schema: { type: "string" },
        },
        IdempotentReplayed: {
          description: "`true` on an answer replayed for a repeated `Idempotency-Key`",
          schema: { type: "string", enum: ["true"] },
        },
        RetryAfter: {
          description: "Seconds to wait before retrying (on 429 and some 503 answers)",
          schema: { type: "string" },
        },
      },
      responses: {
        Error: {
          description: "An error: `code` to branch on, `message` for a person (CONTRACT §3)",
          headers: {
            ...requestIdOnly,
            ...replayed,
            "Retry-After": ref("headers", "RetryAfter"),
          },
          content: json("Error"),
        },
      },
    },
  };
}
