/**
 * Watching a session live: each tool session's shell keeps a transcript in the sandbox's /tmp
 * (`/tmp/lumina-sessions/<tool session id>.log`) that another session can follow as it grows.
 */
import { expect, it } from "vitest";
import { createClient, type LuminaClient } from "../../src/index.ts";
import { useTestServer } from "../support/use-server.ts";
import { newSandboxClient } from "./sandbox-helpers.ts";

let worker: LuminaClient;
let watcher: LuminaClient;

const server = useTestServer({}, async () => {
  worker = await newSandboxClient(server());
  watcher = createClient({ baseUrl: server().url, token: server().token, sandbox: worker.sandbox });
});

const transcriptOf = (client: LuminaClient) => `/tmp/lumina-sessions/${client.toolSessionId}.log`;

it("shows a running command's output in its session's transcript before the command ends", async () => {
  const gate = "/home/user/transcript-gate";
  // The command prints, then waits for the watcher: it cannot end before the watcher saw it.
  const running = worker.bash(
    `echo "first line"; while [ ! -e ${gate} ]; do sleep 0.05; done; echo "after the gate"`,
    { timeout: 60_000 },
  );
  let seen = "";
  for (let attempt = 0; attempt < 200 && !seen.includes("first line\n"); attempt++) {
    seen = (await watcher.bash(`cat ${transcriptOf(worker)} 2>/dev/null`)).output;
    if (!seen.includes("first line\n")) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(seen).toContain('$ echo "first line"; while');
  expect(seen).toContain("first line\n");
  expect(seen).not.toContain("after the gate\n");
  await watcher.bash(`touch ${gate}`);
  expect((await running).output).toBe("first line\nafter the gate\n");

  const done = (await watcher.bash(`cat ${transcriptOf(worker)}`)).output;
  expect(done).toMatch(/after the gate\n\[exit 0\]\n$/);
});

it("notes background commands and timeouts, and keeps the engine's own commands out", async () => {
  const started = await worker.bash("sleep 30", { runInBackground: true });
  await worker.killBash(started.shellId);
  await worker.bash("sleep 5", { timeout: 200 });
  const transcript = (await watcher.bash(`cat ${transcriptOf(worker)}`)).output;
  expect(transcript).toContain(`$ sleep 30  # in the background as ${started.shellId}`);
  expect(transcript).toMatch(/\$ sleep 5\n(.*Killed.*\n)?\[exit 124, killed at its timeout\]\n/);
  expect(transcript).not.toContain("env -0");
});

it("rotates a transcript past 1 MiB, keeping the previous one as .1", async () => {
  await worker.bash("head -c 1200000 /dev/zero | tr '\\0' x; echo");
  await worker.bash("echo after-rotation");
  const sizes = await watcher.bash(
    `stat -c %s ${transcriptOf(worker)} ${transcriptOf(worker)}.1; tail -c 200 ${transcriptOf(worker)}`,
  );
  const [current, previous] = sizes.output.split("\n").map(Number);
  expect(previous).toBeGreaterThan(1024 * 1024);
  // It rotates between output chunks, so the rest of the big output starts the new file.
  expect(current).toBeLessThan(400_000);
  expect(sizes.output).toContain("$ echo after-rotation\nafter-rotation\n[exit 0]\n");
});
