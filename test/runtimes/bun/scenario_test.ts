/**
 * Bun: the built package (`dist/`) runs the shared scenario against the real reference server
 * named by `LUMINA_URL` and `LUMINA_TOKEN`.
 * Run by test/runtimes/bun/bun.test.ts: `bun test ./test/runtimes/bun/scenario_test.ts`.
 */
import { expect, test } from "bun:test";
import * as sdk from "../../../dist/index.js";
import { runScenario } from "../scenario.ts";

function required(name: string): string {
  const value = Bun.env[name];
  if (!value) throw new Error(`${name} is not set: run this test through bun.test.ts`);
  return value;
}

test("Bun runs the built package: the shared scenario", async () => {
  const result = await runScenario(sdk, {
    baseUrl: required("LUMINA_URL"),
    token: required("LUMINA_TOKEN"),
    runtime: "bun",
  });
  expect(result.steps).toContain("destroySandbox");
}, 60_000);
