import { readFile } from "node:fs/promises";
import { compileErrors, validate as validateOpenApi } from "@readme/openapi-parser";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { toolBodies } from "../../server/http/schemas.ts";
import { type RawAnswer, type RawCallOptions, rawCall } from "../support/http.ts";
import { randomSandboxName } from "../support/server.ts";
import { useTestServer } from "../support/use-server.ts";

type Json = Record<string, unknown>;
const bodyLimit = 256 * 1024;
let doc: Json;

const server = useTestServer({ bodyLimit }, async () => {
  doc = (await rawCall(server().url, "/v1/openapi.json")).json as Json;
});

/** Follows a local `$ref` (`#/components/…`) in the document. */
function resolve(node: unknown): Json {
  const target = (node as { $ref?: string }).$ref;
  if (!target) return node as Json;
  let found: unknown = doc;
  for (const key of target.slice(2).split("/")) found = (found as Json)[key];
  return resolve(found);
}

/** The document's schemas with every object closed: an answer field no schema names fails. */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (typeof schema !== "object" || schema === null) return schema;
  const copy = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, closed(v)]));
  if (copy["type"] === "object" && copy["properties"] && !("additionalProperties" in copy)) {
    copy["additionalProperties"] = false;
  }
  return copy;
}

const ajv = new Ajv2020({ allErrors: true });
const validators = new Map<unknown, [ValidateFunction, ValidateFunction]>();

/** Checks one real answer against the operation's documented answer for its status. */
function expectDocumented(method: string, template: string, answer: RawAnswer): void {
  const where = `${method.toUpperCase()} ${template} → ${answer.status}`;
  const operation = resolve(resolve(doc["paths"])[template])[method] as Json | undefined;
  expect(operation, `${where}: operation documented`).toBeDefined();
  const documented = (operation!["responses"] as Json)[String(answer.status)];
  expect(documented, `${where}: status documented`).toBeDefined();
  const response = resolve(documented);
  expect(answer.headers.get("lumina-request-id"), `${where}: request id`).toBeTruthy();
  expect(Object.keys(response["headers"] as Json)).toContain("Lumina-Request-Id");
  const content = (response["content"] as Json | undefined)?.["application/json"] as Json;
  if (!content) {
    expect(answer.text, `${where}: no body`).toBe("");
    return;
  }
  const schema = resolve(content["schema"]);
  let pair = validators.get(schema);
  if (!pair) {
    pair = [ajv.compile(schema), ajv.compile(closed(schema) as Json)];
    validators.set(schema, pair);
  }
  for (const check of pair) {
    const valid = check(answer.json);
    expect(valid, `${where}: ${ajv.errorsText(check.errors)} in ${answer.text.slice(0, 300)}`).toBe(
      true,
    );
  }
}

describe("GET /v1/openapi.json", () => {
  it("is served without a token and equals docs/openapi.json (npm run openapi writes it)", async () => {
    const answer = await rawCall(server().url, "/v1/openapi.json");
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toMatch(/^application\/json/);
    const file = JSON.parse(
      await readFile(new URL("../../docs/openapi.json", import.meta.url), "utf8"),
    );
    expect(answer.json).toEqual(file);
  });

  it("is a valid OpenAPI 3.1 document to a standard parser", async () => {
    expect(doc["openapi"]).toBe("3.1.0");
    const result = await validateOpenApi(structuredClone(doc) as never);
    expect(result.valid, result.valid ? "" : compileErrors(result)).toBe(true);
  });

  it("documents every route, with the server's strict request bodies", () => {
    const tools = Object.keys(toolBodies).map((tool) => `/v1/sandboxes/{name}/tools/${tool}`);
    expect(Object.keys(doc["paths"] as Json).sort()).toEqual(
      [
        "/v1/health",
        "/v1/openapi.json",
        "/v1/sandboxes",
        "/v1/sandboxes/{name}",
        "/v1/sandboxes/{name}/network",
        "/v1/sandboxes/{name}/restart",
        "/v1/sandboxes/{name}/snapshots",
        "/v1/sandboxes/{name}/fork",
        "/v1/snapshots",
        "/v1/snapshots/{id}",
        "/v1/sandboxes/{name}/ports",
        "/v1/sandboxes/{name}/ports/{port}",
        "/v1/sandboxes/{name}/files",
        "/v1/sandboxes/{name}/archive",
        "/v1/calls/{key}",
        ...tools,
      ].sort(),
    );
    for (const path of tools) {
      const post = resolve((doc["paths"] as Json)[path])["post"] as Json;
      const body = resolve(resolve(post["requestBody"])["content"] as Json);
      expect(resolve((body["application/json"] as Json)["schema"])).toMatchObject({
        type: "object",
        additionalProperties: false,
      });
    }
  });

  it("answers a wrong method with 405", async () => {
    const answer = await rawCall(server().url, "/v1/openapi.json", { method: "POST", body: {} });
    expect(answer.status).toBe(405);
  });
});

describe("real answers of the server", () => {
  it("validate against the document on every endpoint, success and error bodies", async () => {
    const name = randomSandboxName("oa");
    const token = server().token;
    const sandbox = `/v1/sandboxes/${name}`;
    const call = async (
      method: string,
      template: string,
      path: string,
      options: RawCallOptions,
    ) => {
      const answer = await rawCall(server().url, path, {
        method: method.toUpperCase(),
        ...options,
      });
      expectDocumented(method, template, answer);
      return answer;
    };
    const tool = async (tool: string, body: unknown, status: number) => {
      const template = `/v1/sandboxes/{name}/tools/${tool}`;
      const answer = await call("post", template, `${sandbox}/tools/${tool}`, {
        token,
        body,
        session: "oa-session",
      });
      expect(answer.status, `${tool} ${JSON.stringify(body)}: ${answer.text}`).toBe(status);
      return answer.json as Json;
    };
    const statuses: number[] = [];
    const sandboxes = async (
      method: string,
      template: string,
      path: string,
      options: RawCallOptions,
    ) => {
      const answer = await call(method, template, path, options);
      statuses.push(answer.status);
      return answer;
    };

    await call("get", "/v1/health", "/v1/health", {});
    await call("get", "/v1/openapi.json", "/v1/openapi.json", {});
    await sandboxes("post", "/v1/sandboxes", "/v1/sandboxes", { token, body: { name } });
    await sandboxes("post", "/v1/sandboxes", "/v1/sandboxes", { token, body: { name } });
    await sandboxes("post", "/v1/sandboxes", "/v1/sandboxes", { token, body: { name: "Bad!" } });
    await sandboxes("post", "/v1/sandboxes", "/v1/sandboxes", { token, body: { name, x: 1 } });
    await sandboxes("post", "/v1/sandboxes", "/v1/sandboxes", { token: "nobody:wrong", body: {} });
    await sandboxes("get", "/v1/sandboxes", "/v1/sandboxes", { token });
    await sandboxes("get", "/v1/sandboxes/{name}", sandbox, { token });
    await sandboxes("get", "/v1/sandboxes/{name}", "/v1/sandboxes/oa-missing", { token });
    expect(statuses).toEqual([201, 409, 400, 400, 401, 200, 200, 404]);

    const file_path = "/home/user/oa.txt";
    await tool("write", { file_path, content: "one\ntwo\n" }, 200);
    await tool("write", { file_path, content: "again\n" }, 409);
    await tool("read", { file_path }, 200);
    await tool("read", { file_path: "relative.txt" }, 400);
    await tool("read", { file_path: "/home/user/none.txt" }, 404);
    await tool("edit", { file_path, old_string: "two", new_string: "2" }, 200);
    await tool("edit", { file_path, old_string: "absent", new_string: "x" }, 400);
    await tool("write", { file_path: "/home/user/big.txt", content: "x".repeat(bodyLimit) }, 413);
    await tool("glob", { pattern: "*.txt" }, 200);
    for (const output_mode of ["files_with_matches", "content", "count"]) {
      await tool("grep", { pattern: "one", output_mode, line_numbers: true }, 200);
    }
    await tool("grep", { pattern: "one", ignore_case: true }, 400);
    expect(await tool("bash", { command: "echo hi" }, 200)).toMatchObject({ truncated: false });
    expect(await tool("bash", { command: "seq 1 100000" }, 200)).toMatchObject({ truncated: true });
    const started = await tool("bash", { command: "sleep 30", run_in_background: true }, 200);
    const bash_id = started["shell_id"] as string;
    await tool("bash_output", { bash_id }, 200);
    await tool("bash_output", { bash_id, wait_ms: 60_000 }, 400);
    await tool("kill_bash", { shell_id: bash_id }, 200);
    await tool("kill_bash", { shell_id: "bash_00" }, 404);
    const noSession = await call(
      "post",
      "/v1/sandboxes/{name}/tools/bash",
      `${sandbox}/tools/bash`,
      {
        token,
        body: { command: "echo" },
      },
    );
    expect(noSession.status).toBe(400);

    const taken = await sandboxes(
      "post",
      "/v1/sandboxes/{name}/snapshots",
      `${sandbox}/snapshots`,
      {
        token,
        body: { label: "oa" },
      },
    );
    const id = (taken.json as { snapshot: { id: string } }).snapshot.id;
    await sandboxes("get", "/v1/snapshots", "/v1/snapshots", { token });
    await sandboxes("get", "/v1/snapshots/{id}", `/v1/snapshots/${id}`, { token });
    await sandboxes("get", "/v1/snapshots/{id}", "/v1/snapshots/snap_none", { token });
    const fork = randomSandboxName("oa");
    await sandboxes("post", "/v1/sandboxes/{name}/fork", `${sandbox}/fork`, {
      token,
      body: { name: fork, eager: false },
    });
    await sandboxes("post", "/v1/sandboxes", "/v1/sandboxes", {
      token,
      body: { name: randomSandboxName("oa"), eager: false, from_snapshot: id },
    });
    await sandboxes("delete", "/v1/snapshots/{id}", `/v1/snapshots/${id}`, { token });
    expect(statuses.slice(-7)).toEqual([201, 200, 200, 404, 201, 201, 204]);
    const ports = "/v1/sandboxes/{name}/ports";
    await sandboxes("post", ports, `${sandbox}/ports`, { token, body: { port: 3000 } });
    await sandboxes("post", ports, `${sandbox}/ports`, { token, body: { port: 0 } });
    await sandboxes("get", ports, `${sandbox}/ports`, { token });
    await sandboxes("delete", `${ports}/{port}`, `${sandbox}/ports/3000`, { token });
    await sandboxes("delete", `${ports}/{port}`, `${sandbox}/ports/3000`, { token });
    expect(statuses.slice(-5)).toEqual([201, 400, 200, 204, 404]);

    const network = (body: Record<string, unknown>) =>
      call("post", "/v1/sandboxes/{name}/network", `${sandbox}/network`, { token, body });
    expect((await network({ egress: "allowlist", allow: ["example.com"] })).status).toBe(200);
    expect((await network({ egress: "allowlist", allow: ["10.0.0.0/8"] })).status).toBe(400);
    await sandboxes("post", "/v1/sandboxes/{name}/restart", `${sandbox}/restart`, { token });
    await sandboxes("delete", "/v1/sandboxes/{name}", sandbox, { token });
    await sandboxes("delete", "/v1/sandboxes/{name}", sandbox, { token });
    expect(statuses.slice(-3)).toEqual([200, 204, 404]);
  });
});
