// The test app that runs inside a sandbox for the preview tests (node built-ins only): an echo of
// every request, a server-sent event stream released by a second request, a page with an
// absolute-path script, a sized download, and a WebSocket echo. Usage: node preview-app.mjs <port>
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";

const port = Number(process.argv[2]);
const releases = new Map();

const page = `<!doctype html><title>preview</title><script src="/app.js"></script>`;
const script = `document.title = "loaded from " + location.host;`;

function download(res, bytes) {
  const chunk = Buffer.alloc(64 * 1024, 120);
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes });
  let left = bytes;
  const more = () => {
    while (left > 0) {
      const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= piece.length;
      if (!res.write(piece)) return void res.once("drain", more);
    }
    res.end();
  };
  more();
}

const server = createServer((req, res) => {
  const url = new URL(req.url, "http://app");
  const id = url.searchParams.get("id") ?? "";
  if (url.pathname === "/sse") {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.write("data: first\n\n");
    // The second event waits for /release?id=…: the test sends that only after the first arrived.
    releases.set(id, () => res.end("data: second\n\n"));
    return;
  }
  if (url.pathname === "/release") {
    releases.get(id)?.();
    res.end(releases.has(id) ? "released" : "unknown");
    return;
  }
  if (url.pathname === "/page") return void res.end(page);
  if (url.pathname === "/app.js") {
    res.writeHead(200, { "content-type": "text/javascript" });
    return void res.end(script);
  }
  if (url.pathname === "/download") return download(res, Number(url.searchParams.get("bytes")));
  const hash = createHash("sha256");
  let length = 0;
  req.on("data", (chunk) => {
    hash.update(chunk);
    length += chunk.length;
  });
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        method: req.method,
        url: req.url,
        headers: req.headers,
        length,
        sha256: hash.digest("hex"),
      }),
    );
  });
});

// A WebSocket echo of short text frames (RFC 6455, client frames are masked).
server.on("upgrade", (req, socket) => {
  const accept = createHash("sha1")
    .update(`${req.headers["sec-websocket-key"]}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
    .digest("base64");
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\n\r\n`,
  );
  socket.on("data", (frame) => {
    const opcode = frame[0] & 0x0f;
    if (opcode === 8) return void socket.end(Buffer.from([0x88, 0]));
    const length = frame[1] & 0x7f;
    const mask = frame.subarray(2, 6);
    const payload = Buffer.from(frame.subarray(6, 6 + length).map((byte, i) => byte ^ mask[i % 4]));
    socket.write(Buffer.concat([Buffer.from([0x81, payload.length]), payload]));
  });
  socket.on("error", () => {});
});

server.listen(port, "127.0.0.1", () => writeFileSync(`/tmp/ready-${port}`, ""));
