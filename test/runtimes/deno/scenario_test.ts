/**
 * Deno: the TypeScript source (`src/`, as JSR serves `@lumina/sandbox`) runs the shared scenario
 * against the real reference server named by `LUMINA_URL` and `LUMINA_TOKEN`.
 * Run by test/runtimes/deno/deno.test.ts: `deno test --allow-net --allow-env <this file>`.
 */
import * as sdk from "../../../src/index.ts";
import { runScenario } from "../scenario.ts";

function required(name: string): string {
  const value = Deno.env.get(name);
  if (!value) throw new Error(`${name} is not set: run this test through deno.test.ts`);
  return value;
}

Deno.test("Deno runs the source as JSR serves it: the shared scenario", async () => {
  const result = await runScenario(sdk, {
    baseUrl: required("LUMINA_URL"),
    token: required("LUMINA_TOKEN"),
    runtime: "deno",
  });
  console.log(`deno: ${result.steps.join(", ")}`);
});
