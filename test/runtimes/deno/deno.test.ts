/**
 * Deno: starts the real reference server, then runs `deno test` on scenario_test.ts (the shared
 * scenario over `src/`, as JSR serves it) and `deno run` on examples/deno.ts, with the example's
 * `@lumina/sandbox` mapped to `src/` as `deno add jsr:@lumina/sandbox` would map it to JSR.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { childTestTimeout, root, runChild, useServerEnv } from "../spawn.ts";

const deno = join(root, "node_modules/.bin/deno");
const env = useServerEnv();

describe("Deno runs the source as JSR serves it", () => {
  it(
    "passes the shared scenario under deno test",
    async () => {
      const args = ["test", "--allow-net", "--allow-env", "test/runtimes/deno/scenario_test.ts"];
      const { code, output } = await runChild(deno, args, env());
      expect(output, output).toMatch(/ok \| 1 passed \| 0 failed/);
      expect(code, output).toBe(0);
    },
    childTestTimeout,
  );

  it(
    "runs examples/deno.ts, type-checked",
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "lumina-deno-"));
      try {
        const importMap = join(dir, "import-map.json");
        const source = `${root}src/index.ts`;
        await writeFile(importMap, JSON.stringify({ imports: { "@lumina/sandbox": source } }));
        const args = ["run", "--check", "--allow-net", "--allow-env", `--import-map=${importMap}`];
        const { code, output } = await runChild(deno, [...args, "examples/deno.ts"], env());
        expect(output).toContain("hello from user in a sandbox");
        expect(output).toContain("a missing file is a 404 not_found");
        expect(code, output).toBe(0);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    childTestTimeout,
  );
});
