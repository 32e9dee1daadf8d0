/**
 * A probe the network tests run inside a sandbox (`node /home/user/probe.cjs <kind> …`): it
 * makes one connection attempt, bounded by a timeout, and prints one JSON line with what
 * happened and how long it took. Kinds: `tcp host port`, `unix path` (a leading `@` is an
 * abstract name), `https url [address] [servername]` (TLS to `address`, SNI `servername`, which
 * may be empty for none), `listen-tcp port text` and `listen-unix path text` (serve `text`).
 */
export const probeScript = String.raw`
const net = require("node:net");
const tls = require("node:tls");
const [kind, a, b, c] = process.argv.slice(2);
const started = Date.now();
const report = (result) => { console.log(JSON.stringify({ ...result, ms: Date.now() - started })); process.exit(0); };
const unixPath = (path) => (path.startsWith("@") ? "\0" + path.slice(1) : path);
setTimeout(() => report({ ok: false, error: "TIMEOUT" }), 8000).unref();
const readAll = (socket) => {
  let text = "";
  socket.on("data", (chunk) => (text += chunk));
  socket.on("end", () => report({ ok: true, text }));
  socket.on("error", (error) => report({ ok: false, error: error.code || error.message }));
};
if (kind === "tcp") readAll(net.connect({ host: a, port: Number(b) }));
if (kind === "unix") readAll(net.connect({ path: unixPath(a) }));
if (kind === "listen-tcp") net.createServer((s) => s.end(b)).listen(Number(a), "0.0.0.0", () => console.log("listening"));
if (kind === "listen-unix") net.createServer((s) => s.end(b)).listen(unixPath(a), () => console.log("listening"));
if (kind === "https") {
  const url = new URL(a);
  const options = { host: b || url.hostname, port: Number(url.port || 443), servername: c === undefined ? url.hostname : c };
  if (options.servername === "") delete options.servername;
  const socket = tls.connect({ ...options, rejectUnauthorized: false }, () => {
    socket.write("HEAD " + url.pathname + " HTTP/1.1\r\nHost: " + url.host + "\r\nConnection: close\r\n\r\n");
  });
  let text = "";
  socket.on("data", (chunk) => (text += chunk));
  socket.on("end", () => report({ ok: /^HTTP\/1\.1 \d{3}/.test(text), status: text.slice(0, 12) }));
  socket.on("error", (error) => report({ ok: false, error: error.code || error.message }));
}
`;
