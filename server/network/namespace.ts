/**
 * One network namespace per sandbox, made by the (root) server: `ip netns add`, the policy's nft
 * rules loaded into it, then slirp4netns, which gives it a tap device and relays its TCP and UDP
 * through ordinary host sockets (so nothing host-wide changes: no forwarding, no host rules, no
 * host interfaces). The sandbox's bwrap joins it through `nsenter --net`.
 *
 * Order is what makes it fail closed: the rules are in place before any interface exists, and
 * bwrap starts only once slirp4netns says the network is up. Any failed step removes what the
 * earlier ones made and fails the start.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, readdir } from "node:fs/promises";
import type { Readable } from "node:stream";
import { ServerError } from "../errors.ts";
import { startAllowlistProxy } from "./allowlist-proxy.ts";
import { hostIpv4Addresses } from "./host-addresses.ts";
import type { NetworkPolicy } from "./policy.ts";
import { sandboxRuleset } from "./rules.ts";

/** Where `ip netns` keeps its namespaces. */
const netnsDir = "/run/netns";
/** slirp4netns's fixed addresses in its default 10.0.2.0/24 network. */
export const slirpAddresses = { gateway: "10.0.2.2", dns: "10.0.2.3", sandbox: "10.0.2.100" };

/** A sandbox's network while it runs. */
export interface SandboxNetwork {
  /** The namespace's path, for `nsenter --net=`. */
  readonly path: string;
  /** Replaces the rules with those of `policy`; new connections follow it at once. */
  apply(policy: NetworkPolicy): Promise<void>;
  /** Ends slirp4netns and the proxy and deletes the namespace. */
  close(): Promise<void>;
}

/** The host tools a sandbox network needs, with the Debian package of each. */
const networkTools: ReadonlyArray<[string, string]> = [
  ["slirp4netns", "slirp4netns"],
  ["nft", "nftables"],
  ["ip", "iproute2"],
  ["nsenter", "util-linux"],
  ["unshare", "util-linux"],
];
/** Where the tools are looked up (the PATH they run with). */
const toolPath = "/usr/sbin:/usr/bin:/sbin:/bin";

/** Throws, naming what to install, unless every tool a sandbox network needs is here. */
export async function requireNetworkTools(searchPath = toolPath): Promise<void> {
  const missing: string[] = [];
  const executable = (path: string) =>
    access(path, constants.X_OK).then(
      () => true,
      () => false,
    );
  for (const [tool, debianPackage] of networkTools) {
    const found = await Promise.all(
      searchPath.split(":").map((dir) => executable(`${dir}/${tool}`)),
    );
    if (!found.includes(true)) missing.push(`${tool} (apt-get install ${debianPackage})`);
  }
  if (missing.length > 0) {
    throw new Error(
      `every sandbox gets its own network namespace, which needs ${missing.join(", ")}; install them, or for development only run with --isolation none (the host's network, unisolated)`,
    );
  }
}

/** Runs a host tool (bounded in time), feeding it `input`; rejects with its stderr on failure. */
export function runTool(file: string, args: string[], input = ""): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: ["pipe", "ignore", "pipe"],
      env: { PATH: toolPath },
      timeout: 10_000,
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString().slice(0, 2000);
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${file} ${args.join(" ")}: ${stderr.trim() || `exit ${code}`}`)),
    );
    child.stdin.on("error", () => {});
    child.stdin.end(input);
  });
}

/** Deletes the namespaces named `<prefix>*` that a crashed server left behind. */
export async function removeStaleNamespaces(
  prefix: string,
  log: (line: string) => void,
): Promise<void> {
  const names = await readdir(netnsDir).catch(() => [] as string[]);
  for (const name of names.filter((entry) => entry.startsWith(prefix))) {
    await runTool("ip", ["netns", "delete", name]).then(
      () => log(`lumina: removed the network namespace ${name} left by an earlier run`),
      (error: unknown) =>
        log(`lumina: could not remove the stale namespace ${name}: ${String(error)}`),
    );
  }
}

/** Makes the namespace `name`, enforcing `policy`, and starts its user-space network. */
export async function openSandboxNetwork(
  name: string,
  initial: NetworkPolicy,
): Promise<SandboxNetwork> {
  const path = `${netnsDir}/${name}`;
  let policy = initial;
  const proxy = await startAllowlistProxy(() => policy);
  let slirp: ChildProcess | undefined;
  const load = (next: NetworkPolicy) =>
    runTool(
      "nsenter",
      [`--net=${path}`, "--", "nft", "-f", "-"],
      sandboxRuleset({
        policy: next,
        hostAddresses: hostIpv4Addresses(),
        proxyPort: proxy.port,
        ...slirpAddresses,
      }),
    );
  const close = async () => {
    if (slirp && slirp.exitCode === null && slirp.signalCode === null) {
      const gone = new Promise((done) => slirp?.once("exit", done));
      slirp.kill("SIGKILL");
      await gone;
    }
    await proxy.close();
    await runTool("ip", ["netns", "delete", name]).catch(() => {});
  };
  try {
    // A namespace of this name is a leftover of this sandbox's own earlier run.
    await runTool("ip", ["netns", "delete", name]).catch(() => {});
    await runTool("ip", ["netns", "add", name]);
    await load(policy);
    await runTool("ip", ["-n", name, "link", "set", "lo", "up"]);
    slirp = await startSlirp(path);
  } catch (error) {
    await close();
    throw new ServerError(
      "unavailable",
      `could not set up the sandbox's network namespace (${(error as Error).message}); its start was refused`,
    );
  }
  return {
    path,
    async apply(next) {
      await load(next);
      policy = next;
    },
    close,
  };
}

/**
 * Starts slirp4netns on the namespace and resolves once it configured the tap device. It runs in
 * a private mount namespace (its own sandbox unmounts everything, which would otherwise spread to
 * the host's shared `/run/netns`), and exits when fd 3 closes: with the server, even on SIGKILL.
 */
function startSlirp(path: string): Promise<ChildProcess> {
  const args = [
    "--mount",
    "--propagation",
    "private",
    "--",
    "slirp4netns",
    "--configure",
    "--mtu=65520",
    "--netns-type=path",
    "--enable-sandbox",
    "--enable-seccomp",
    "--exit-fd=3",
    "--ready-fd=4",
    path,
    "tap0",
  ];
  const child = spawn("unshare", args, {
    stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"],
    env: { PATH: toolPath },
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail("slirp4netns did not come up within 10 s"), 10_000);
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`${why}: ${stderr.trim()}`));
    };
    child.on("error", (error) =>
      fail(`could not run slirp4netns (apt-get install slirp4netns): ${error.message}`),
    );
    child.once("exit", (code) => fail(`slirp4netns exited (${code})`));
    (child.stdio[4] as Readable).once("data", () => {
      clearTimeout(timer);
      child.removeAllListeners("exit");
      resolve(child);
    });
  });
}
