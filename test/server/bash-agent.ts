/**
 * Starts the bundled agent as a plain child process (no sandbox) for the shell engine's
 * agent-level tests: the shell logic does not need isolation to be exercised.
 */
import { spawn } from "node:child_process";
import { agentBundlePath } from "../../server/sandbox/agent-bundle.ts";
import { type AgentConnection, connectAgent } from "../../server/sandbox/agent-connection.ts";

/** A running agent and a way to stop it. */
export interface PlainAgent extends AgentConnection {
  pid: number;
  stop(): Promise<void>;
}

/** Spawns the agent bundle with `/usr/bin/node`, piped stdio, HOME set to `home`. */
export async function startPlainAgent(home: string): Promise<PlainAgent> {
  const child = spawn("/usr/bin/node", [await agentBundlePath()], {
    stdio: ["pipe", "pipe", "inherit"],
    cwd: home,
    env: { HOME: home, PATH: "/usr/local/bin:/usr/bin:/bin", LANG: "C.UTF-8" },
  });
  const connection = connectAgent(child.stdin, child.stdout, { label: `agent pid ${child.pid}` });
  return {
    ...connection,
    pid: child.pid!,
    stop: async () => {
      child.stdin?.end();
      await connection.closed;
    },
  };
}
