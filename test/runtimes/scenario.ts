/**
 * The one end-to-end scenario every runtime runs against the real reference server: Node, Deno,
 * Bun, workerd (outbound fetch and a service binding) and Chromium. It uses only what every
 * fetch-world runtime has (no Node, Deno or Bun globals, no test library), and takes the SDK as a
 * parameter so that each runtime passes its own build: `dist/` for Node, Bun, workerd and the
 * browser, `src/` for Deno, as a JSR user would.
 *
 * It throws an `Error` whose message names the step and what differed on any mismatch.
 */
import type * as LuminaSdk from "lumina-sandbox";

/** The part of the SDK the scenario uses, as each runtime imports it. */
export type ScenarioSdk = Pick<typeof LuminaSdk, "createClient" | "ToolError">;

/** Where and how the scenario reaches the server. */
export interface ScenarioOptions {
  /** The server's base URL (any origin when `fetch` routes the requests elsewhere). */
  baseUrl: string;
  /** An API key of the server. */
  token: string;
  /** Names the runtime in the sandbox name and in the shell, e.g. `"deno"`. */
  runtime: string;
  /** The `fetch` option of the client, e.g. a bound Workers service binding. */
  fetch?: LuminaSdk.FetchFunction | undefined;
}

/** What the scenario saw, for the runner to report. */
export interface ScenarioResult {
  /** The sandbox the scenario created and destroyed. */
  sandbox: string;
  /** The names of the steps that passed, in order. */
  steps: string[];
}

/** Throws `message` unless `condition` holds. */
function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`scenario: ${message}`);
}

/** Throws unless `actual` and `expected` serialise to the same JSON. */
function checkEqual(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  check(a === e, `${what}: expected ${e}, got ${a}`);
}

/** Runs `action`, which must reject; returns what it rejected with. */
async function rejection(action: () => Promise<unknown>, what: string): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error(`scenario: ${what} resolved, but it should have rejected`);
}

/** A sandbox name no other run uses: the runtime, then random hex. */
function sandboxName(runtime: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `rt-${runtime.toLowerCase().replace(/[^a-z0-9]+/g, "-")}-${hex}`;
}

/**
 * Runs the scenario: creates a sandbox, drives every tool family through it, follows background
 * commands with `streamOutput` (to the end, stopped by `break`, stopped by an abort), aborts a
 * foreground `bash` by the `signal` of its options, checks that
 * a server refusal is a `ToolError`, and destroys the sandbox, also when a step fails.
 */
export async function runScenario(
  sdk: ScenarioSdk,
  options: ScenarioOptions,
): Promise<ScenarioResult> {
  const sandbox = sandboxName(options.runtime);
  const steps: string[] = [];
  const lumina = sdk.createClient({
    baseUrl: options.baseUrl,
    token: options.token,
    sandbox,
    fetch: options.fetch,
  });
  let created = false;
  try {
    const info = await lumina.createSandbox();
    created = true;
    checkEqual(info.name, sandbox, "createSandbox name");
    check(info.status !== "stopped", `an eager sandbox is ${info.status}`);
    steps.push("createSandbox");

    // The shell persists its environment and working directory between calls.
    const set = await lumina.bash(`export LUMINA_RUNTIME=${options.runtime} && cd /tmp`);
    checkEqual(set.exitCode, 0, "export exit code");
    const echo = await lumina.bash('echo "$LUMINA_RUNTIME in $(pwd)"');
    checkEqual(echo.output, `${options.runtime} in /tmp\n`, "persisted environment");
    checkEqual((await lumina.bash("exit 3")).exitCode, 3, "a non-zero exit code is data");
    steps.push("bash");

    const file = "/home/user/app/notes.txt";
    const written = await lumina.write(file, "hello\nworld\n");
    checkEqual([written.bytesWritten, written.filePath], [12, file], "write");
    // A second write without a read is refused: a ToolError, caught with instanceof.
    const refused = await rejection(() => lumina.write(file, "blind\n"), "a blind overwrite");
    check(refused instanceof sdk.ToolError, `a blind overwrite rejected with ${String(refused)}`);
    checkEqual([refused.statusCode, refused.code], [409, "not_read"], "the 409");
    const read = await lumina.read(file);
    check(read.type === "text", `read type ${read.type}`);
    checkEqual([read.content, read.totalLines], ["   1\thello\n   2\tworld\n", 2], "read");
    const edited = await lumina.edit(file, "world", "lumina");
    checkEqual(edited.replacements, 1, "edit replacements");
    const reread = await lumina.read(file);
    check(reread.type === "text" && reread.content.includes("2\tlumina"), "edit not on disk");
    steps.push("files");

    // Bytes in and out, every byte value: from a Blob, and as a stream both ways where the
    // runtime's fetch streams request bodies (Chromium does so only over HTTP/2).
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const binary = "/home/user/app/bytes.bin";
    const uploaded = await lumina.upload(binary, new Blob([bytes]));
    checkEqual(uploaded, { filePath: binary, bytesWritten: 256 }, "upload");
    checkEqual(Array.from(await lumina.download(binary)), Array.from(bytes), "download");
    if (options.runtime !== "chromium") {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bytes.subarray(0, 100));
          controller.enqueue(bytes.subarray(100));
          controller.close();
        },
      });
      checkEqual((await lumina.upload(binary, body)).bytesWritten, 256, "streamed upload");
    }
    const received: number[] = [];
    const reader = (await lumina.downloadStream(binary)).getReader();
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      received.push(...next.value);
    }
    checkEqual(received, Array.from(bytes), "downloadStream");
    steps.push("upload and download");

    const grep = await lumina.grep("lumina", {
      path: "/home/user",
      outputMode: "content",
      lineNumbers: true,
    });
    checkEqual(
      grep.matches.map((match) => [match.file, match.lineNumber, match.line]),
      [[file, 2, "lumina"]],
      "grep matches",
    );
    steps.push("grep");

    // To the end: every line, then one final chunk whose status is not "running".
    const counter = await lumina.bash("for i in 1 2 3; do echo line$i; sleep 0.2; done", {
      runInBackground: true,
    });
    check(counter.shellId.startsWith("bash_"), `shell id ${counter.shellId}`);
    let output = "";
    let last: string | undefined;
    for await (const chunk of lumina.streamOutput(counter.shellId)) {
      output += chunk.output;
      last = chunk.status;
    }
    checkEqual([output, last], ["line1\nline2\nline3\n", "completed"], "stream to the end");
    steps.push("streamOutput to the end");

    // `break` stops watching but leaves the command running.
    const ticker = await lumina.bash("echo ready; while sleep 0.2; do echo tick; done", {
      runInBackground: true,
    });
    for await (const chunk of lumina.streamOutput(ticker.shellId)) {
      if (chunk.output.includes("ready")) break;
    }
    checkEqual((await lumina.bashOutput(ticker.shellId)).status, "running", "status after break");
    steps.push("streamOutput stopped by break");

    // An abort while chunks keep coming rejects the next `next()` with the signal's own reason.
    const controller = new AbortController();
    const reason = new Error("the scenario stops watching");
    let chunks = 0;
    const aborted = await rejection(async () => {
      for await (const chunk of lumina.streamOutput(ticker.shellId, {
        signal: controller.signal,
      })) {
        check(chunk.status === "running", `a ticking command is ${chunk.status}`);
        chunks += 1;
        controller.abort(reason);
      }
    }, "an aborted stream");
    check(aborted === reason, `the aborted stream rejected with ${String(aborted)}`);
    checkEqual(chunks, 1, "chunks seen before the abort took effect");
    steps.push("streamOutput stopped by an abort");

    // `signal` in a method's one options object aborts it: a foreground command that would
    // sleep for 30 s rejects with the signal's own reason (before or after it was sent).
    const stop = new AbortController();
    const stopReason = new Error("the scenario stops the sleep");
    const timer = setTimeout(() => stop.abort(stopReason), 300);
    const sleepStarted = Date.now();
    const stopped = await rejection(
      () => lumina.bash("sleep 30", { signal: stop.signal }),
      "an aborted bash",
    );
    clearTimeout(timer);
    check(stopped === stopReason, `the aborted bash rejected with ${String(stopped)}`);
    check(Date.now() - sleepStarted < 20_000, "the aborted bash ended well before its command");
    steps.push("bash stopped by a signal");

    const killed = await lumina.killBash(ticker.shellId);
    checkEqual(killed.status, "killed", "killBash status");
    steps.push("killBash");

    await lumina.destroySandbox();
    created = false;
    const gone = await rejection(() => lumina.getSandbox(), "getSandbox after destroy");
    check(gone instanceof sdk.ToolError, `getSandbox after destroy rejected with ${String(gone)}`);
    checkEqual(gone.statusCode, 404, "getSandbox after destroy");
    steps.push("destroySandbox");
  } finally {
    if (created) await lumina.destroySandbox().catch(() => {});
    await lumina.close();
  }
  return { sandbox, steps };
}
