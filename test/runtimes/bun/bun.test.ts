/**
 * Bun: starts the real reference server, then runs `bun test` on scenario_test.ts (the shared
 * scenario over the built `dist/`) and `bun` on examples/bun.ts, whose `lumina-sandbox` import
 * resolves to `dist/` through this package's own name, as an installed copy would.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { childTestTimeout, root, runChild, useServerEnv } from "../spawn.ts";

const bun = join(root, "node_modules/.bin/bun");
const env = useServerEnv();

describe("Bun runs the built package", () => {
  it(
    "passes the shared scenario under bun test",
    async () => {
      const { code, output } = await runChild(
        bun,
        ["test", "./test/runtimes/bun/scenario_test.ts"],
        env(),
      );
      expect(output, output).toMatch(/\b1 pass\b[\s\S]*\b0 fail\b/);
      expect(code, output).toBe(0);
    },
    childTestTimeout,
  );

  it(
    "runs examples/bun.ts",
    async () => {
      const { code, output } = await runChild(bun, ["examples/bun.ts"], env());
      expect(output).toContain("hello from user in a sandbox");
      expect(output).toContain("a missing file is a 404 not_found");
      expect(code, output).toBe(0);
    },
    childTestTimeout,
  );
});
