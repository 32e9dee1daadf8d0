/**
 * The real server in a process of its own, for tests that must shape that process (a low
 * RLIMIT_NOFILE through `prlimit`) or watch it survive. Run with `node --import tsx`; reads its
 * options as JSON from `LUMINA_TEST_SERVER_OPTIONS`, prints one line `{"url","token","pid"}` once
 * listening, logs to stderr, and stops cleanly on SIGTERM.
 */
import { createLuminaServer, type LuminaServerOptions } from "../../server/index.ts";

const options = JSON.parse(
  process.env["LUMINA_TEST_SERVER_OPTIONS"] ?? "{}",
) as LuminaServerOptions;
const server = await createLuminaServer({
  ...options,
  host: "127.0.0.1",
  port: 0,
  log: (line) => process.stderr.write(`${line}\n`),
});
const token = server.adminKey ?? server.addUserKey("admin");
process.stdout.write(`${JSON.stringify({ url: server.url, token, pid: process.pid })}\n`);
process.on("SIGTERM", () => {
  void server.close().then(() => process.exit(0));
});
