#!/usr/bin/env node
/**
 * The reference server's command line (CONTRACT §4):
 *
 *   lumina-server [--host 127.0.0.1] [--port 8080] [--data <dir>] [--isolation <backend>]
 *                 [--egress internet|none] [--host-uid-base <uid>] [--no-disk-quota] [--require-limits]
 *                 [--preview-domain localhost]
 *   lumina-server add-key | list-keys | revoke-key | remove-user … (see --help)
 *
 * Environment: LUMINA_API_KEYS (`user:key,user:key`), LUMINA_JWT_SECRET (enables HS256 JWTs).
 */
import { parseArgs } from "node:util";
import { adminCommandNames, runAdminCommand } from "./admin-commands.ts";
import { createLuminaServer } from "./index.ts";
import {
  lifecycleFlags,
  lifecycleHelp,
  lifecycleOptions,
  lifecycleUsage,
} from "./lifecycle-options.ts";
import { backendFactories, defaultBackendKind } from "./sandbox/backends.ts";
import { hostUidBlockSize } from "./store/host-uids.ts";

// Above the uids of the host's own users (and nobody, 65534); the block ends below 2^31 - 1,
// the largest uid setpriv and bwrap take.
const minHostUidBase = 65_536;
const maxHostUidBase = 2 ** 31 - 1 - hostUidBlockSize;

const usage = `usage: lumina-server [--host 127.0.0.1] [--port 8080] [--data <dir>] [--isolation ${[...backendFactories.keys()].join("|")}]
                     [--egress internet|none] [--host-uid-base <uid>] [--no-disk-quota] [--require-limits]
                     ${lifecycleUsage}
                     [--preview-domain localhost]
       lumina-server add-key <user> [--data <dir>]
       lumina-server list-keys <user> [--data <dir>]
       lumina-server revoke-key <user> <key-or-key-id> [--data <dir>]
       lumina-server remove-user <user> [--data <dir>]
       lumina-server --help`;

const help = `${usage}

Serves Lumina sandboxes over HTTP (CONTRACT §3) from the data directory (default .lumina-data).
Stops every sandbox on SIGTERM or SIGINT.

  --egress internet|none the network policy of sandboxes created without one (default internet):
                         'none' lets them open no outbound connection at all. Whatever the policy,
                         a sandbox never reaches the host, other sandboxes, private, link-local
                         or multicast addresses; per sandbox, 'allowlist' takes CIDRs and names.
  --host-uid-base <uid>  the first of the ${hostUidBlockSize} host uids the sandboxes run as
                         (${minHostUidBase}-${maxHostUidBase}; default: a block picked by the data directory's path).
                         Keep it clear of every uid the host uses, and of other servers' blocks.
  --no-disk-quota        give homes no loop-mounted disk quota (only this turns quotas off).
  --require-limits       refuse to start unless sandboxes get their memory, pids and cpu limits
                         (cgroup v1 or v2); without it a missing limit is one warning at start.
${lifecycleHelp}
  --preview-domain <name>
                         preview URLs are http://{port}-{token}.<name>:{server port}/ (default
                         localhost, which browsers and curl resolve to loopback); give a name whose
                         every subdomain resolves to this server (a wildcard DNS record).

Commands (they edit the registry and exit; a running server sees the change at once):
  add-key <user>            mint an API key for a user (printed once) and print its id
  list-keys <user>          print the ids and dates of a user's keys
  revoke-key <user> <key>   revoke one key, given whole or by its id (or the id's first 8+ characters)
  remove-user <user>        revoke every key of the user, refuse its JWTs, and destroy all its
                            sandboxes and their files (the server does this within seconds,
                            or when it next starts); add-key for the user later restores it

Users: API-key users and JWT users are one namespace. A JWT's sub is a user name, and a JWT is
accepted for any user not removed; removing a user revokes both its keys and its JWTs.

Environment:
  LUMINA_API_KEYS     user:key,user:key pairs added to the registry at start
  LUMINA_JWT_SECRET   enables HS256 JWTs whose sub names the user`;

function fail(message: string, code = 2): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions();
  } catch (error) {
    fail(`${(error as Error).message}\n${usage}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return;
  }
  const dataDir = values.data ?? ".lumina-data";

  const command = positionals[0];
  if (command !== undefined && adminCommandNames.includes(command)) {
    const result = runAdminCommand(command, positionals.slice(1), dataDir);
    process.stdout.write(result.stdout);
    if (result.code !== 0) fail(`${result.stderr}\n${usage}`, result.code);
    return;
  }
  if (positionals.length > 0) fail(`unknown command '${positionals[0]}'\n${usage}`);

  const port = Number(values.port ?? "8080");
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0-65535\n${usage}`);
  let hostUidBase: number | undefined;
  if (values["host-uid-base"] !== undefined) {
    hostUidBase = Number(values["host-uid-base"]);
    if (
      !/^\d+$/.test(values["host-uid-base"]) ||
      hostUidBase < minHostUidBase ||
      hostUidBase > maxHostUidBase
    ) {
      fail(
        `--host-uid-base must be a whole number from ${minHostUidBase} to ${maxHostUidBase}\n${usage}`,
      );
    }
  }
  const previewDomain = values["preview-domain"] ?? "localhost";
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(previewDomain)) {
    fail(`--preview-domain must be a host name such as preview.example.com\n${usage}`);
  }
  const isolation = values.isolation ?? defaultBackendKind;
  if (!backendFactories.has(isolation)) {
    const kinds = [...backendFactories.keys()].map((kind) => `'${kind}'`).join(" or ");
    fail(`--isolation must be ${kinds}\n${usage}`);
  }

  let lifecycle: ReturnType<typeof lifecycleOptions> = {};
  try {
    lifecycle = lifecycleOptions(values);
  } catch (error) {
    fail(`${(error as Error).message}\n${usage}`);
  }

  const egress = values.egress ?? "internet";
  if (egress !== "internet" && egress !== "none")
    fail(`--egress must be 'internet' or 'none'\n${usage}`);
  const { LUMINA_API_KEYS, LUMINA_JWT_SECRET } = process.env;
  // The backend's preflight refuses the start (exit 1, saying what to install) or warns.
  const server = await createLuminaServer({
    dataDir,
    host: values.host ?? "127.0.0.1",
    port,
    isolation,
    egress,
    // Only the operator turns quotas off; a failed image fails one start, never this.
    diskQuota: values["no-disk-quota"] !== true,
    requireLimits: values["require-limits"] ?? false,
    ...lifecycle,
    previewDomain,
    ...(hostUidBase !== undefined ? { hostUidBase } : {}),
    ...(LUMINA_API_KEYS ? { apiKeys: LUMINA_API_KEYS } : {}),
    ...(LUMINA_JWT_SECRET ? { jwtSecret: LUMINA_JWT_SECRET } : {}),
  });
  if (server.adminKey) {
    process.stdout.write(
      `created the first API key, for user admin (shown once, store it now): ${server.adminKey}\n`,
    );
  }
  process.stdout.write(`lumina server ${isolation} listening on ${server.url}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`lumina: ${signal}: stopping every sandbox\n`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`lumina: shutdown failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

function parseOptions() {
  return parseArgs({
    allowPositionals: true,
    options: {
      host: { type: "string" },
      port: { type: "string" },
      data: { type: "string" },
      isolation: { type: "string" },
      egress: { type: "string" },
      "host-uid-base": { type: "string" },
      "preview-domain": { type: "string" },
      help: { type: "boolean", short: "h" },
      "no-disk-quota": { type: "boolean" },
      // Refuse to start when sandboxes cannot get their memory, pids and cpu limits.
      "require-limits": { type: "boolean" },
      ...lifecycleFlags,
    },
  });
}

main().catch((error: unknown) => fail(`lumina: ${(error as Error).message}`, 1));
