/**
 * `npm run bench`: every benchmark in turn, each in its own process so one's load does not skew
 * the next. Pass names to run a subset: `npm run bench -- bash-roundtrip server-files`.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";

const folder = new URL(".", import.meta.url).pathname;
const all = readdirSync(folder)
  .filter((name) => name.endsWith(".ts") && name !== "run.ts")
  .map((name) => name.slice(0, -3))
  .sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !all.includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(", ")}; there are: ${all.join(", ")}`);
  process.exit(2);
}

let failed = 0;
for (const name of wanted.length > 0 ? wanted : all) {
  console.log(`\n### ${name}`);
  const run = spawnSync(process.execPath, ["--import", "tsx", `${folder}${name}.ts`], {
    stdio: "inherit",
  });
  if (run.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
