/**
 * Bundles a Worker for miniflare the way wrangler would: one ES module, `lumina-sandbox` taken
 * from the built package (`dist/`), dependencies inlined, Workers export conditions.
 */
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("../../../", import.meta.url));

/** Bundles the Worker at `entry` (relative to the repository root) into one module's source. */
export async function bundleWorker(entry: string): Promise<string> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser", "import"],
    alias: { "lumina-sandbox": "./dist/index.js" },
    write: false,
    logLevel: "silent",
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error(`esbuild produced nothing for ${entry}`);
  return output.text;
}
