import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { requireSandboxHost } from "../support/use-server.ts";

const root = new URL("../../", import.meta.url).pathname;

describe("npm run demo", () => {
  requireSandboxHost();
  // The demo imports the built package (`lumina-sandbox` → dist/), as a user's copy would.
  // It also starts the built server (`npm run build` builds dist-server/ too).
  it("tours a real sandbox on the built server and exits 0", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", "examples/run-demo.ts"], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, LUMINA_URL: "", LUMINA_TOKEN: "", NO_COLOR: "1" },
      timeout: 120_000,
    });
    const output = `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
    expect(run.stderr, output).not.toMatch(/Error/);
    expect(run.status, output).toBe(0);
    expect(run.stdout).toMatch(
      /Lumina server \(.*lumina-server\.js\) listening on http:\/\/127\.0\.0\.1:/,
    );
    expect(run.stdout).toMatch(/Hello from Linux, running as user/);
    expect(run.stdout).toContain("hi from /home/user/project");
    expect(run.stdout).toMatch(/a blind overwrite is refused: 409 not_read/);
    expect(run.stdout).toContain("hello, world!");
    // The fork and the original each run their own edit of the same file.
    expect(run.stdout).toMatch(
      /original:\n.*hello, world!\n.*only in the original\n.*fork:\n.*hello, world!\n.*only in the fork\n/,
    );
    expect(run.stdout).toMatch(/GET \/\?visit=3/);
    expect(run.stdout).toMatch(/open http:\/\/\d+-[0-9a-f]{40}\.localhost:\d+\/ in a browser/);
    expect(run.stdout).toMatch(
      /GET http:\/\/127\.0\.0\.1:\d+\/preview\/[0-9a-f]{40}\/: 200, "Directory listing for \/"/,
    );
    expect(run.stdout).toContain("after closePort: 404");
    expect(run.stdout).toMatch(/status killed/);
  });
});
