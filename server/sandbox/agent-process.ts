/**
 * Turns a spawned agent process into a `SandboxRuntime`: waits for its first answer, keeps the
 * tail of its stderr for error messages, and knows how to end it.
 */
import type { ChildProcess } from "node:child_process";
import { ServerError } from "../errors.ts";
import { type ConnectOptions, connectAgent } from "./agent-connection.ts";
import type { SandboxRuntime } from "./backend.ts";
import type { PortTunnel } from "./port-tunnel.ts";

const startTimeoutMs = 30_000;
const stderrKeep = 4096;

/**
 * What else ends the sandbox's processes, after its process group is killed: called once by
 * `stop()` and when the agent dies.
 */
export type Terminate = () => Promise<void>;

/**
 * Waits for the agent to answer a ping and returns the runtime; kills it on failure. An agent
 * that breaks the protocol (see `connectAgent`) stops the sandbox like an agent that died.
 * `child` must be spawned `detached` (a process group of its own): stopping kills that group.
 */
export async function runtimeFromProcess(
  child: ChildProcess,
  terminate: Terminate = async () => {},
  options: ConnectOptions & { tunnel?: PortTunnel } = {},
): Promise<SandboxRuntime> {
  const { tunnel, ...connectOptions } = options;
  let stderrTail = "";
  child.stderr?.setEncoding("utf8");
  // Always drained, so a chatty agent never blocks on a full pipe.
  child.stderr?.on("data", (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-stderrKeep);
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
    child.once("error", () => resolve());
  });
  if (!child.stdin || !child.stdout) {
    throw new Error("the agent must be spawned with piped stdin and stdout");
  }
  const connection = connectAgent(child.stdin, child.stdout, {
    label: `agent pid ${child.pid ?? "?"}`,
    ...connectOptions,
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      child.stdin?.end();
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // The group is gone already.
      }
      await exited;
      await tunnel?.close();
      await terminate();
    })();
    return stopping;
  };
  // Whatever way the agent goes (crash, kill from outside), the whole sandbox goes with it.
  const stopped = Promise.race([exited, connection.closed]).then(stop);

  const timer = setTimeout(() => void stop(), startTimeoutMs);
  try {
    await connection.call("ping", {});
  } catch {
    await stop();
    const detail = stderrTail.trim().split("\n").slice(-3).join(" | ");
    throw new ServerError(
      "unavailable",
      `the sandbox failed to start${detail ? `: ${detail}` : ""}; try again or ask the operator`,
    );
  } finally {
    clearTimeout(timer);
  }
  const call: SandboxRuntime["call"] = (method, params, signal) =>
    connection.call(method, params, signal).catch(async (error: unknown) => {
      // A call lost with its sandbox answers once the stop is done, so a retry starts afresh.
      if (connection.isClosed) await stopped.catch(() => {});
      throw error;
    });
  const connectPort: SandboxRuntime["connectPort"] = async (port, signal) => {
    if (!tunnel) throw new ServerError("internal", "this sandbox backend cannot reach ports");
    return tunnel.connect(call, port, signal);
  };
  const transfer: SandboxRuntime["transfer"] = (method, params, options) =>
    connection.transfer(method, params, options);
  return { call, connectPort, transfer, stop, stopped };
}
