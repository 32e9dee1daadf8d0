import { describe, expect, it } from "vitest";
import { createClient } from "../../src/index.ts";
import { base, fakeServer, json } from "./fake-server.ts";

const sandboxWire = { name: "my box", status: "running", created_at: "2025-01-01T00:00:00Z" };
const sandboxInfo = { name: "my box", status: "running", createdAt: "2025-01-01T00:00:00Z" };
const snapshotWire = {
  id: "snap_1",
  sandbox: "my box",
  label: null,
  created_at: "2025-01-01T00:00:00Z",
  size_bytes: 4096,
};
const snapshotInfo = {
  id: "snap_1",
  sandbox: "my box",
  label: null,
  createdAt: "2025-01-01T00:00:00Z",
  sizeBytes: 4096,
};

/** Runs one method against a server answering `answer`, and returns the request and result. */
async function exchange<T>(
  answer: unknown,
  run: (client: ReturnType<typeof createClient>) => Promise<T>,
  status = 200,
) {
  const server = fakeServer(() =>
    answer === undefined ? new Response(null, { status }) : json(answer, status),
  );
  const client = createClient({ ...base, toolSessionId: "session-1", fetch: server.fetch });
  const result = await run(client);
  expect(server.requests).toHaveLength(1);
  return { request: server.requests[0]!, result };
}

const toolHeaders = {
  accept: "application/json",
  authorization: "Bearer t0k",
  "content-type": "application/json",
  "lumina-tool-session": "session-1",
};

describe("the request and result of every method", () => {
  it("createSandbox posts the name and eager, and keeps the lease", async () => {
    const { request, result } = await exchange(
      { sandbox: sandboxWire, lease: { expires_at: "soon" } },
      (c) => c.createSandbox({ eager: false }),
      201,
    );
    expect(request).toMatchObject({ method: "POST", path: "/v1/sandboxes" });
    expect(request.body).toEqual({ name: "my box", eager: false });
    expect(request.headers).toEqual({
      accept: "application/json",
      authorization: "Bearer t0k",
      "content-type": "application/json",
      "idempotency-key": expect.stringMatching(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      ),
    });
    expect(result).toEqual({ ...sandboxInfo, lease: { expiresAt: "soon" } });
  });

  it("createSandbox without options sends only the name and omits a null lease", async () => {
    const { request, result } = await exchange({ sandbox: sandboxWire, lease: null }, (c) =>
      c.createSandbox(),
    );
    expect(request.body).toEqual({ name: "my box" });
    expect(result).toEqual(sandboxInfo);
  });

  it("getSandbox gets the URL-encoded name without a body or session header", async () => {
    const { request, result } = await exchange({ sandbox: sandboxWire }, (c) => c.getSandbox());
    expect(request).toMatchObject({
      method: "GET",
      path: "/v1/sandboxes/my%20box",
      body: undefined,
    });
    expect(request.headers).toEqual({ accept: "application/json", authorization: "Bearer t0k" });
    expect(result).toEqual(sandboxInfo);
  });

  it("listSandboxes maps every sandbox", async () => {
    const { request, result } = await exchange({ sandboxes: [sandboxWire, sandboxWire] }, (c) =>
      c.listSandboxes(),
    );
    expect(request).toMatchObject({ method: "GET", path: "/v1/sandboxes" });
    expect(result).toEqual([sandboxInfo, sandboxInfo]);
  });

  it("restartSandbox posts to …/restart", async () => {
    const { request, result } = await exchange({ sandbox: sandboxWire }, (c) => c.restartSandbox());
    expect(request).toMatchObject({ method: "POST", path: "/v1/sandboxes/my%20box/restart" });
    expect(result).toEqual(sandboxInfo);
  });

  it("destroySandbox deletes and resolves to undefined on 204", async () => {
    const { request, result } = await exchange(undefined, (c) => c.destroySandbox(), 204);
    expect(request).toMatchObject({ method: "DELETE", path: "/v1/sandboxes/my%20box" });
    expect(result).toBeUndefined();
  });

  it("createSandbox sends fromSnapshot as from_snapshot", async () => {
    const { request } = await exchange({ sandbox: sandboxWire, lease: null }, (c) =>
      c.createSandbox({ fromSnapshot: "snap_1" }),
    );
    expect(request.body).toEqual({ name: "my box", from_snapshot: "snap_1" });
  });

  it("snapshot posts the label below the sandbox and maps the snapshot", async () => {
    const { request, result } = await exchange({ snapshot: snapshotWire }, (c) =>
      c.snapshot({ label: "base" }),
    );
    expect(request).toMatchObject({ method: "POST", path: "/v1/sandboxes/my%20box/snapshots" });
    expect(request.body).toEqual({ label: "base" });
    expect(result).toEqual(snapshotInfo);
  });

  it("listSnapshots, getSnapshot and deleteSnapshot use /v1/snapshots, the id URL-encoded", async () => {
    const list = await exchange({ snapshots: [snapshotWire] }, (c) => c.listSnapshots());
    expect(list.request).toMatchObject({ method: "GET", path: "/v1/snapshots", body: undefined });
    expect(list.result).toEqual([snapshotInfo]);
    const one = await exchange({ snapshot: snapshotWire }, (c) => c.getSnapshot("snap 1"));
    expect(one.request).toMatchObject({ method: "GET", path: "/v1/snapshots/snap%201" });
    expect(one.result).toEqual(snapshotInfo);
    const gone = await exchange(undefined, (c) => c.deleteSnapshot("snap_1"), 204);
    expect(gone.request).toMatchObject({ method: "DELETE", path: "/v1/snapshots/snap_1" });
    expect(gone.result).toBeUndefined();
  });

  it("forkSandbox posts the new name and eager to …/fork and maps the new sandbox", async () => {
    const { request, result } = await exchange({ sandbox: sandboxWire }, (c) =>
      c.forkSandbox("copy", { eager: false }),
    );
    expect(request).toMatchObject({ method: "POST", path: "/v1/sandboxes/my%20box/fork" });
    expect(request.body).toEqual({ name: "copy", eager: false });
    expect(result).toEqual(sandboxInfo);
  });

  it("the snapshot methods refuse an option they do not take, before sending", async () => {
    const server = fakeServer(() => json({}));
    const client = createClient({ ...base, fetch: server.fetch });
    await expect(client.snapshot({ name: "x" } as never)).rejects.toThrow(
      /snapshot: unknown option 'name'/,
    );
    await expect(client.forkSandbox("copy", { label: "x" } as never)).rejects.toThrow(/'label'/);
    await expect(client.getSnapshot("s", { eager: true } as never)).rejects.toThrow(/'eager'/);
    expect(server.requests).toEqual([]);
  });

  it("read sends file_path, offset and limit and maps a text file", async () => {
    const { request, result } = await exchange(
      { type: "text", content: "   1\tx\n", total_lines: 9, lines_returned: 1 },
      (c) => c.read("/home/user/a.py", { offset: 2, limit: 1 }),
    );
    expect(request).toMatchObject({ method: "POST", path: "/v1/sandboxes/my%20box/tools/read" });
    expect(request.headers).toEqual(toolHeaders);
    expect(request.body).toEqual({ file_path: "/home/user/a.py", offset: 2, limit: 1 });
    expect(result).toEqual({ type: "text", content: "   1\tx\n", totalLines: 9, linesReturned: 1 });
  });

  it("read maps images and PDFs", async () => {
    const image = await exchange(
      { type: "image", image: "iVBO", mime_type: "image/png", file_size: 3 },
      (c) => c.read("/i.png"),
    );
    expect(image.request.body).toEqual({ file_path: "/i.png" });
    expect(image.result).toEqual({
      type: "image",
      image: "iVBO",
      mimeType: "image/png",
      fileSize: 3,
    });
    const pdf = await exchange(
      { type: "pdf", pages: [{ page_number: 1, text: "hi" }], total_pages: 1 },
      (c) => c.read("/d.pdf"),
    );
    expect(pdf.result).toEqual({
      type: "pdf",
      pages: [{ pageNumber: 1, text: "hi" }],
      totalPages: 1,
    });
  });

  it("write sends file_path and content", async () => {
    const { request, result } = await exchange(
      { message: "ok", bytes_written: 3, file_path: "/a" },
      (c) => c.write("/a", "hé"),
    );
    expect(request).toMatchObject({ path: "/v1/sandboxes/my%20box/tools/write" });
    expect(request.body).toEqual({ file_path: "/a", content: "hé" });
    expect(result).toEqual({ message: "ok", bytesWritten: 3, filePath: "/a" });
  });

  it("edit sends old_string, new_string and replace_all", async () => {
    const { request, result } = await exchange(
      { message: "ok", replacements: 2, file_path: "/a" },
      (c) => c.edit("/a", "x", "y", { replaceAll: true }),
    );
    expect(request).toMatchObject({ path: "/v1/sandboxes/my%20box/tools/edit" });
    expect(request.body).toEqual({
      file_path: "/a",
      old_string: "x",
      new_string: "y",
      replace_all: true,
    });
    expect(result).toEqual({ message: "ok", replacements: 2, filePath: "/a" });
  });

  it("glob sends pattern and path", async () => {
    const { request, result } = await exchange(
      { matches: ["/a.ts"], count: 1, search_path: "/src", truncated: false },
      (c) => c.glob("*.ts", { path: "/src" }),
    );
    expect(request).toMatchObject({ path: "/v1/sandboxes/my%20box/tools/glob" });
    expect(request.body).toEqual({ pattern: "*.ts", path: "/src" });
    expect(result).toEqual({ matches: ["/a.ts"], count: 1, searchPath: "/src", truncated: false });
  });

  it("grep sends every option in snake_case and maps content matches", async () => {
    const { request, result } = await exchange(
      {
        mode: "content",
        matches: [
          { file: "/a", line_number: 3, line: "x", before_context: ["w"], after_context: [] },
        ],
        total_matches: 1,
      },
      (c) =>
        c.grep("x", {
          path: "/p",
          glob: "*.ts",
          outputMode: "content",
          lineNumbers: true,
          after: 1,
          before: 2,
          context: 3,
          fileType: "ts",
          caseInsensitive: true,
          multiline: false,
        }),
    );
    expect(request).toMatchObject({ path: "/v1/sandboxes/my%20box/tools/grep" });
    expect(request.body).toEqual({
      pattern: "x",
      path: "/p",
      glob: "*.ts",
      output_mode: "content",
      line_numbers: true,
      after: 1,
      before: 2,
      context: 3,
      file_type: "ts",
      case_insensitive: true,
      multiline: false,
    });
    expect(result).toEqual({
      mode: "content",
      matches: [{ file: "/a", lineNumber: 3, line: "x", beforeContext: ["w"], afterContext: [] }],
      totalMatches: 1,
    });
  });

  it("grep maps the files and count modes", async () => {
    const files = await exchange({ mode: "files_with_matches", files: ["/a"], count: 1 }, (c) =>
      c.grep("x"),
    );
    expect(files.request.body).toEqual({ pattern: "x" });
    expect(files.result).toEqual({ mode: "files_with_matches", files: ["/a"], count: 1 });
    const counts = await exchange(
      { mode: "count", counts: [{ file: "/a", count: 2 }], total: 2 },
      (c) => c.grep("x", { outputMode: "count" }),
    );
    expect(counts.result).toEqual({ mode: "count", counts: [{ file: "/a", count: 2 }], total: 2 });
  });

  it("bash sends command, timeout, description and run_in_background", async () => {
    const { request, result } = await exchange(
      { output: "", exit_code: 0, killed: false, truncated: false, shell_id: "bash_1f" },
      (c) => c.bash("sleep 9", { timeout: 5000, description: "wait", runInBackground: true }),
    );
    expect(request).toMatchObject({ path: "/v1/sandboxes/my%20box/tools/bash" });
    expect(request.body).toEqual({
      command: "sleep 9",
      timeout: 5000,
      description: "wait",
      run_in_background: true,
    });
    expect(result).toEqual({
      output: "",
      exitCode: 0,
      killed: false,
      truncated: false,
      shellId: "bash_1f",
    });
  });

  it("bash parses an answer preceded by keep-alive whitespace", async () => {
    const server = fakeServer(
      () =>
        new Response(
          `\n \n${JSON.stringify({ output: "hi\n", exit_code: 3, killed: false, truncated: true, shell_id: "" })}`,
        ),
    );
    const client = createClient({ ...base, fetch: server.fetch });
    await expect(client.bash("echo hi; exit 3")).resolves.toEqual({
      output: "hi\n",
      exitCode: 3,
      killed: false,
      truncated: true,
      shellId: "",
    });
  });

  it("bashOutput sends bash_id, filter, cursor and wait_ms", async () => {
    const { request, result } = await exchange(
      { output: "a\n", status: "failed", exit_code: 2, cursor: 10 },
      (c) => c.bashOutput("bash_1f", { filter: "a", cursor: 8, waitMs: 100 }),
    );
    expect(request).toMatchObject({ path: "/v1/sandboxes/my%20box/tools/bash_output" });
    expect(request.body).toEqual({ bash_id: "bash_1f", filter: "a", cursor: 8, wait_ms: 100 });
    expect(result).toEqual({ output: "a\n", status: "failed", exitCode: 2, cursor: 10 });
  });

  it("killBash sends shell_id", async () => {
    const { request, result } = await exchange(
      { message: "killed", shell_id: "bash_1f", status: "killed" },
      (c) => c.killBash("bash_1f"),
    );
    expect(request).toMatchObject({ path: "/v1/sandboxes/my%20box/tools/kill_bash" });
    expect(request.body).toEqual({ shell_id: "bash_1f" });
    expect(result).toEqual({ message: "killed", shellId: "bash_1f", status: "killed" });
  });
});

describe("client options", () => {
  it("generates a UUID session id when none is given and exposes the sandbox", () => {
    const client = createClient(base);
    expect(client.toolSessionId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(client.sandbox).toBe("my box");
    expect(Object.isFrozen(client)).toBe(true);
  });

  it("rejects a missing required option at creation", () => {
    expect(() => createClient({ ...base, token: "" })).toThrow(/"token" is required/);
  });

  it("rejects a baseUrl without an http(s) scheme at creation, saying what is expected", () => {
    expect(() => createClient({ ...base, baseUrl: "localhost:8080" })).toThrow(
      /baseUrl must be an http:\/\/ or https:\/\/ URL/,
    );
    expect(() => createClient({ ...base, baseUrl: "HTTPS://lumina.example" })).not.toThrow();
  });

  it("sends through a custom transport", async () => {
    const seen: string[] = [];
    const client = createClient({
      ...base,
      transport: async (request) => {
        seen.push(`${request.method} ${request.url}`);
        return { status: 200, headers: new Headers(), body: JSON.stringify({ sandboxes: [] }) };
      },
    });
    await expect(client.listSandboxes()).resolves.toEqual([]);
    expect(seen).toEqual(["GET http://lumina.test/v1/sandboxes"]);
  });

  it("uses globalThis.fetch, looked up at call time, by default", async () => {
    const server = fakeServer(() => json({ sandboxes: [] }));
    const original = globalThis.fetch;
    const client = createClient(base);
    globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) =>
      server.fetch(new Request(input, init))) as typeof fetch;
    try {
      await client.listSandboxes();
    } finally {
      globalThis.fetch = original;
    }
    expect(server.requests).toHaveLength(1);
  });

  it("close() aborts calls in flight and rejects later ones", async () => {
    const server = fakeServer((request) => new Promise(() => void request));
    const client = createClient({ ...base, fetch: server.fetch });
    const pending = client.getSandbox();
    await client.close();
    await expect(pending).rejects.toThrow("The client is closed");
    await expect(client.getSandbox()).rejects.toThrow("The client is closed");
  });
});
