/**
 * CONTRACT §9 / SECURITY.md network: each sandbox has its own network namespace and follows its
 * egress policy. Traffic goes only to loopback, to the registry npm is configured with (read at
 * run time) and into a namespace this test makes itself.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { lookup } from "node:dns/promises";
import { existsSync, readdirSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostIpv4Addresses } from "../../server/network/host-addresses.ts";
import { createClient, type LuminaClient } from "../../src/index.ts";
import { probeScript } from "../support/network-probe.ts";
import { randomSandboxName, sandboxHostMissing, startTestServer } from "../support/server.ts";
import { useTestServer } from "../support/use-server.ts";
import { hostHomeOf } from "./sandbox-helpers.ts";

const server = useTestServer();
const registry = execFileSync("npm", ["config", "get", "registry"]).toString().trim();
const registryHost = new URL(registry).hostname;

interface ProbeResult {
  ok: boolean;
  ms: number;
  text?: string;
  error?: string;
  status?: string;
}

async function sandbox(
  network?: Parameters<LuminaClient["updateNetwork"]>[0],
): Promise<LuminaClient> {
  const client = createClient({
    baseUrl: server().url,
    token: server().token,
    sandbox: randomSandboxName("n"),
  });
  await client.createSandbox(network ? { network } : {});
  await client.write("/home/user/probe.cjs", probeScript);
  return client;
}

async function probe(client: LuminaClient, ...args: string[]): Promise<ProbeResult> {
  const quoted = args.map((arg) => `'${arg}'`).join(" ");
  const { output } = await client.bash(`node /home/user/probe.cjs ${quoted}`, { timeout: 20_000 });
  return JSON.parse(output.trim().split("\n").pop() ?? "") as ProbeResult;
}

/** Starts a probe listener in the background and waits until it listens. */
async function listen(client: LuminaClient, ...args: string[]): Promise<void> {
  const quoted = args.map((arg) => `'${arg}'`).join(" ");
  const { shellId } = await client.bash(`node /home/user/probe.cjs ${quoted}`, {
    runInBackground: true,
  });
  for await (const chunk of client.streamOutput(shellId))
    if (chunk.output.includes("listening")) return;
}

function hostListener(
  path: string | number,
): Promise<{ server: Server; accepted: () => number; port: number }> {
  let count = 0;
  const listener = createServer((socket) => {
    count += 1;
    socket.end("host");
  });
  return new Promise((resolve) => {
    const ready = () => {
      const address = listener.address();
      resolve({
        server: listener,
        accepted: () => count,
        port: typeof address === "object" && address ? address.port : 0,
      });
    };
    if (typeof path === "number") listener.listen(path, "127.0.0.1", ready);
    else listener.listen(path, ready);
  });
}

describe("a network namespace per sandbox", () => {
  let first: LuminaClient;
  let second: LuminaClient;
  const tag = randomBytes(4).toString("hex");
  beforeAll(async () => {
    if (sandboxHostMissing) return;
    [first, second] = await Promise.all([sandbox(), sandbox()]);
    await Promise.all([
      listen(first, "listen-tcp", "3000", "first"),
      listen(second, "listen-tcp", "3000", "second"),
      listen(first, "listen-unix", `@lumnet-first-${tag}`, "first"),
    ]);
  }, 120_000);

  it("two sandboxes both listen on one port, and each reaches only its own", async () => {
    expect(await probe(first, "tcp", "127.0.0.1", "3000")).toMatchObject({
      ok: true,
      text: "first",
    });
    expect(await probe(second, "tcp", "127.0.0.1", "3000")).toMatchObject({
      ok: true,
      text: "second",
    });
    expect(await probe(second, "tcp", "10.0.2.100", "3000")).toMatchObject({ text: "second" });
  });

  it("no sandbox reaches the host's loopback, the Lumina server's port or the host's own addresses", async () => {
    const host = await hostListener(0);
    try {
      const serverPort = new URL(server().url).port;
      const targets = [
        ["127.0.0.1", String(host.port)],
        ["10.0.2.2", String(host.port)],
        ["127.0.0.1", serverPort],
        ["10.0.2.2", serverPort],
        ...hostIpv4Addresses().map((address) => [address, serverPort]),
      ];
      for (const [address = "", port = ""] of targets) {
        const result = await probe(second, "tcp", address, port);
        expect({ address, port, ...result }).toMatchObject({ ok: false });
        expect(result.ms).toBeLessThan(1000);
      }
      expect(host.accepted()).toBe(0);
    } finally {
      host.server.close();
    }
  });

  it("abstract unix sockets of another sandbox or of the host are out of reach", async () => {
    const host = await hostListener(`\0lumnet-host-${tag}`);
    try {
      // The positive control: the socket is there for its own sandbox.
      expect(await probe(first, "unix", `@lumnet-first-${tag}`)).toMatchObject({
        ok: true,
        text: "first",
      });
      expect(await probe(second, "unix", `@lumnet-first-${tag}`)).toMatchObject({ ok: false });
      expect(await probe(second, "unix", `@lumnet-host-${tag}`)).toMatchObject({ ok: false });
      expect(await probe(first, "unix", `@lumnet-host-${tag}`)).toMatchObject({ ok: false });
      expect(host.accepted()).toBe(0);
    } finally {
      host.server.close();
    }
  });

  it("/proc/net/tcp inside lists only the sandbox's own sockets", async () => {
    const host = await hostListener(0);
    try {
      const { output } = await first.bash("cat /proc/net/tcp");
      const ports = output
        .split("\n")
        .slice(1)
        .filter((line) => line.trim())
        .map((line) => Number.parseInt(line.trim().split(/\s+/)[1]?.split(":")[1] ?? "", 16));
      expect(ports).toContain(3000);
      expect(ports).not.toContain(host.port);
      expect(ports).not.toContain(Number(new URL(server().url).port));
    } finally {
      host.server.close();
    }
  });
});

describe("egress policies", () => {
  it("internet: the registry is reachable, with DNS", async () => {
    const client = await sandbox();
    expect((await client.getSandbox()).network).toEqual({ egress: "internet" });
    expect(await probe(client, "https", registry)).toMatchObject({ ok: true });
  });

  it("none: reaching the registry fails within a second", async () => {
    const client = await sandbox({ egress: "none" });
    const address = (await lookup(registryHost, { family: 4 })).address;
    const byName = await probe(client, "https", registry);
    const byAddress = await probe(client, "https", registry, address);
    for (const result of [byName, byAddress]) {
      expect(result).toMatchObject({ ok: false });
      expect(result.ms).toBeLessThan(1000);
    }
  });

  it("allowlist with the registry's name: reachable; another name or the bare address: not", async () => {
    const client = await sandbox({ egress: "allowlist", allow: [registryHost] });
    const address = (await lookup(registryHost, { family: 4 })).address;
    expect(await probe(client, "https", registry)).toMatchObject({ ok: true });
    expect(await probe(client, "https", registry, address, registryHost)).toMatchObject({
      ok: true,
    });
    expect(await probe(client, "https", registry, address, "not-allowed.invalid")).toMatchObject({
      ok: false,
    });
    expect(await probe(client, "https", registry, address, "")).toMatchObject({ ok: false });
  });

  it("a change of policy on a running sandbox holds for its new connections", async () => {
    const client = await sandbox();
    expect(await probe(client, "https", registry)).toMatchObject({ ok: true });
    const none = await client.updateNetwork({ egress: "none" });
    expect(none).toMatchObject({ status: "running", network: { egress: "none" } });
    expect(await probe(client, "https", registry)).toMatchObject({ ok: false });
    await client.updateNetwork({
      egress: "allowlist",
      allow: [`*.${registryHost.split(".").slice(1).join(".")}`, registryHost],
    });
    expect(await probe(client, "https", registry)).toMatchObject({ ok: true });
    await client.updateNetwork({ egress: "allowlist", allow: ["example.invalid"] });
    expect(await probe(client, "https", registry)).toMatchObject({ ok: false });
    // Kept across a restart: the policy is stored, not only applied.
    await client.restartSandbox();
    expect((await client.getSandbox()).network).toEqual({
      egress: "allowlist",
      allow: ["example.invalid"],
    });
    expect(await probe(client, "https", registry)).toMatchObject({ ok: false });
  });
});

describe("the always-blocked ranges", () => {
  // A target in 10/8 inside a namespace of the test's own, reachable from the host.
  const name = `lumnet-t-${randomBytes(3).toString("hex")}`;
  const link = `lnt${randomBytes(3).toString("hex")}`;
  const octet = 1 + ((randomBytes(1)[0] ?? 0) % 250);
  const target = `10.213.${octet}.2`;
  let targetServer: ChildProcess | undefined;
  const ip = (...args: string[]) => execFileSync("ip", args, { stdio: "pipe" });
  beforeAll(async () => {
    if (sandboxHostMissing) return;
    ip("netns", "add", name);
    ip("link", "add", `${link}h`, "type", "veth", "peer", "name", `${link}n`);
    ip("link", "set", `${link}n`, "netns", name);
    ip("addr", "add", `10.213.${octet}.1/30`, "dev", `${link}h`);
    ip("link", "set", `${link}h`, "up");
    ip("-n", name, "addr", "add", `${target}/30`, "dev", `${link}n`);
    ip("-n", name, "link", "set", `${link}n`, "up");
    targetServer = spawn(
      "ip",
      [
        "netns",
        "exec",
        name,
        process.execPath,
        "-e",
        `require("node:net").createServer((s) => s.end("target")).listen(8080, "${target}", () => console.log("up"))`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise((resolve) => targetServer?.stdout?.once("data", resolve));
  });
  afterAll(() => {
    targetServer?.kill("SIGKILL");
    if (existsSync(`/run/netns/${name}`)) ip("netns", "delete", name);
  });

  it("a 10/8 target the host reaches is unreachable from a sandbox with internet egress", async () => {
    const fromHost = await new Promise<string>((resolve, reject) => {
      let text = "";
      const socket = connect(8080, target);
      socket
        .on("data", (chunk) => (text += chunk))
        .on("end", () => resolve(text))
        .on("error", reject);
    });
    expect(fromHost).toBe("target");
    const client = await sandbox();
    const result = await probe(client, "tcp", target, "8080");
    expect(result).toMatchObject({ ok: false });
    expect(result.ms).toBeLessThan(1000);
  });

  it("an allowlist entry inside an always-blocked range is a 400 naming it", async () => {
    const client = createClient({
      baseUrl: server().url,
      token: server().token,
      sandbox: randomSandboxName("n"),
    });
    const refused = await client
      .createSandbox({ network: { egress: "allowlist", allow: ["10.213.0.0/16"] } })
      .catch((error: Error) => error);
    expect(refused).toMatchObject({ statusCode: 400, code: "invalid_request" });
    expect(String((refused as Error).message)).toContain("10.213.0.0/16");
  });
});

describe("cleanup", () => {
  const prefix = () => {
    return `lumina-${createHash("sha256").update(`${server().dataDir}/sandboxes`).digest("hex").slice(0, 8)}-`;
  };
  const ours = () => readdirSync("/run/netns").filter((entry) => entry.startsWith(prefix()));

  it("a destroy removes the sandbox's namespace, and a server start removes stale ones", async () => {
    const before = ours().length;
    const client = await sandbox();
    expect(ours().length).toBe(before + 1);
    await client.destroySandbox();
    expect(ours().length).toBe(before);
    execFileSync("ip", ["netns", "add", `${prefix()}stale`]);
    await server().restart();
    expect(ours()).toEqual([]);
  });

  it("a stop of the server removes the namespaces of its running sandboxes", async () => {
    const own = await startTestServer();
    const prefixOf = `lumina-${createHash("sha256").update(`${own.dataDir}/sandboxes`).digest("hex").slice(0, 8)}-`;
    const left = () => readdirSync("/run/netns").filter((entry) => entry.startsWith(prefixOf));
    try {
      const client = createClient({
        baseUrl: own.url,
        token: own.token,
        sandbox: randomSandboxName("n"),
      });
      await client.createSandbox({ eager: true });
      await client.restartSandbox();
      expect(left()).toHaveLength(1);
    } finally {
      await own.close();
    }
    expect(left()).toEqual([]);
  });
});

describe("the server's default policy", () => {
  const strict = useTestServer({ egress: "none" });
  it("applies to a sandbox created without one", async () => {
    const client = createClient({
      baseUrl: strict().url,
      token: strict().token,
      sandbox: randomSandboxName("n"),
    });
    expect(await client.createSandbox({ eager: false })).toMatchObject({
      network: { egress: "none" },
    });
    await client.write("/home/user/probe.cjs", probeScript);
    expect(await probe(client, "https", registry)).toMatchObject({ ok: false });
  });
});

describe("a sandbox from the warm pool", () => {
  const pooled = useTestServer({ warmPool: 2 });
  const storageIds = () => readdirSync(join(pooled().dataDir, "sandboxes"));
  const fromPool = async (network?: { egress: "internet" | "none" }) => {
    await pooled().warmPoolFilled();
    const prepared = storageIds();
    const client = createClient({
      baseUrl: pooled().url,
      token: pooled().token,
      sandbox: randomSandboxName("w"),
    });
    await client.createSandbox(network ? { eager: true, network } : { eager: true });
    // Its storage is one of the environments prepared before the create.
    expect(prepared).toContain((await hostHomeOf(pooled(), client)).split("/").at(-2));
    await client.write("/home/user/probe.cjs", probeScript);
    return client;
  };

  it("gets its own policy when it is handed out (prepared environments have no egress)", async () => {
    expect(await probe(await fromPool(), "https", registry)).toMatchObject({ ok: true });
    expect(await probe(await fromPool({ egress: "none" }), "https", registry)).toMatchObject({
      ok: false,
    });
  });
});
