/**
 * The shell engine inside a plain agent process (no sandbox): volume checks that would be slow
 * through HTTP, such as thousands of commands leaving no zombies behind.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type PlainAgent, startPlainAgent } from "./bash-agent.ts";

let agent: PlainAgent;
let home: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "lumina-bash-agent-"));
  agent = await startPlainAgent(home);
});
afterAll(async () => {
  await agent?.stop();
  await rm(home, { recursive: true, force: true });
});

/** Zombie processes whose parent is `parent`. */
async function zombiesOf(parent: number): Promise<number[]> {
  const zombies: number[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, "latin1").catch(() => "");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z" && Number(fields[1]) === parent) zombies.push(Number(name));
  }
  return zombies;
}

it("leaves no zombies after thousands of commands", { timeout: 120_000 }, async () => {
  const sessionKey = "volume";
  const run = (command: string) =>
    agent.call("shell_run", { sessionKey, command, timeoutMs: 10_000 });
  const { output } = await run("echo $$");
  const shellPid = Number(output.trim());
  for (let i = 0; i < 2000; i++) {
    const result = await run(i % 10 === 0 ? `(true &); sleep 0.001 & echo ${i}` : `echo ${i}`);
    expect(result.output).toBe(`${i}\n`);
  }
  for (let i = 0; i < 50; i++) {
    const { shellId } = await agent.call("shell_run", {
      sessionKey,
      command: `echo bg${i}`,
      timeoutMs: 1,
      background: true,
    });
    const read = await agent.call("shell_output", { sessionKey, shellId, waitMs: 5000 });
    expect(read.output).toBe(`bg${i}\n`);
  }
  await run("wait");
  expect(await zombiesOf(agent.pid)).toEqual([]);
  expect(await zombiesOf(shellPid)).toEqual([]);
});
