/**
 * SECURITY.md, the agent channel: the agent shares its uid with user commands, so a command can
 * take over the agent's stdout (pidfd_getfd). Whatever it writes there — `null`, garbage, a
 * forged answer, an endless line — stops that sandbox only: the server and other sandboxes live
 * on, and the attacked sandbox starts afresh on its next call.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { LuminaClient } from "../../src/index.ts";
import { newSandboxClient } from "./sandbox-helpers.ts";

// Finds the agent (node running /opt/lumina/agent.mjs), takes its stdout and writes the payload.
const attack = String.raw`
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
def agent_pid():
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            argv = open("/proc/%s/cmdline" % name, "rb").read().split(b"\0")
        except OSError:
            continue
        if len(argv) > 1 and argv[0].endswith(b"node") and argv[1] == b"/opt/lumina/agent.mjs":
            return int(name)
    sys.exit("no agent found")
pidfd = os.pidfd_open(agent_pid())
fd = libc.syscall(438, pidfd, 1, 0)  # pidfd_getfd on x86_64
if fd < 0:
    sys.exit("pidfd_getfd failed: errno %d" % ctypes.get_errno())
payload = sys.argv[1]
if payload == "long":
    chunk = b"x" * (1 << 20)
    for _ in range(100):
        os.write(fd, chunk)
else:
    os.write(fd, payload.encode() + b"\n")
time.sleep(60)
`;

import { useTestServer } from "../support/use-server.ts";

let target: LuminaClient;
let bystander: LuminaClient;
const logged: string[] = [];

const server = useTestServer(
  { log: (line) => logged.push(line) },
  async () => {
    target = await newSandboxClient(server());
    bystander = await newSandboxClient(server());
  },
  120_000,
);

describe("a command that takes over the agent's stdout", () => {
  it.each([
    ["null", "null"],
    ["garbage", "garbage{"],
    ["an answer to no call", JSON.stringify({ id: 999_999, result: {} })],
    ["an error without a string code", JSON.stringify({ id: 1, error: { code: 1 } })],
    ["a 100 MB line without newline", "long"],
  ])(
    "writing %s stops only that sandbox",
    async (_what, payload) => {
      const script = `/tmp/attack-${randomBytes(4).toString("hex")}.py`;
      await target.write(script, attack);
      const before = logged.length;
      const attacked = await target
        .bash(`python3 ${script} '${payload}'`, { timeout: 120_000 })
        .then(
          (result) => `answered: ${JSON.stringify(result).slice(0, 300)}`,
          (error: unknown) => String(error),
        );
      expect(attacked).toMatch(/broke the agent protocol/);
      expect(logged.slice(before).join("\n")).toMatch(/broke the protocol/);

      const health = await fetch(`${server().url}/v1/health`);
      expect(health.status).toBe(200);
      expect((await bystander.bash("echo alive")).output).toBe("alive\n");
      // The next call finds the attacked sandbox gone and starts it afresh.
      expect((await target.bash("echo back")).output).toBe("back\n");
    },
    180_000,
  );
});
