/**
 * The name a connection asks for, read from its first bytes: the server name (SNI) of a TLS
 * ClientHello, or the Host header of an HTTP request. Pure functions over a buffer; anything that
 * does not parse is `undefined`, and the allowlist proxy then refuses the connection.
 */

/** What the bytes so far say: more needed, the name asked for, or no usable name at all. */
export type FirstBytes = { need: "more" } | { name: string; port: number } | { refused: string };

/** The most bytes read before a name must be known. */
export const maxFirstBytes = 16 * 1024;

/** Reads the target name of a connection from the bytes it sent first. */
export function readTarget(bytes: Buffer): FirstBytes {
  if (bytes.length === 0) return { need: "more" };
  const result = bytes[0] === 0x16 ? readServerName(bytes) : readHostHeader(bytes);
  if ("need" in result && bytes.length >= maxFirstBytes)
    return { refused: "no name within the first 16 KiB" };
  return result;
}

/** The SNI of a TLS ClientHello (record type 22, handshake type 1). */
export function readServerName(bytes: Buffer): FirstBytes {
  if (bytes.length < 5) return { need: "more" };
  const recordLength = bytes.readUInt16BE(3);
  if (bytes.length < 5 + recordLength) return { need: "more" };
  const hello = bytes.subarray(5, 5 + recordLength);
  if (hello[0] !== 1) return { refused: "not a TLS ClientHello" };
  let at = 4 + 2 + 32; // handshake header, client version, random
  const skip = (lengthBytes: 1 | 2) => {
    if (at + lengthBytes > hello.length) return false;
    at += lengthBytes + (lengthBytes === 1 ? (hello[at] ?? 0) : hello.readUInt16BE(at));
    return at <= hello.length;
  };
  // Session id, cipher suites, compression methods.
  if (!skip(1) || !skip(2) || !skip(1)) return { refused: "a truncated ClientHello" };
  if (at + 2 > hello.length)
    return { refused: "a ClientHello without extensions (no server name)" };
  const end = Math.min(hello.length, at + 2 + hello.readUInt16BE(at));
  at += 2;
  while (at + 4 <= end) {
    const type = hello.readUInt16BE(at);
    const length = hello.readUInt16BE(at + 2);
    const data = hello.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    // server_name: a list length, then entries of type 0 (host_name) with a 2-byte length.
    if (type === 0 && data.length >= 5 && data[2] === 0) {
      const nameLength = data.readUInt16BE(3);
      if (5 + nameLength > data.length) return { refused: "a malformed server name" };
      return { name: data.subarray(5, 5 + nameLength).toString("latin1"), port: 443 };
    }
  }
  return { refused: "a TLS connection without a server name (SNI)" };
}

/** The Host header of an HTTP/1 request; the target is port 80, where the request was sent. */
export function readHostHeader(bytes: Buffer): FirstBytes {
  const text = bytes.toString("latin1");
  const headerEnd = text.indexOf("\r\n\r\n");
  if (headerEnd < 0) return { need: "more" };
  const host = /\r\nhost:[ \t]*([^\r\n]*)/i.exec(text.slice(0, headerEnd + 2))?.[1]?.trim();
  if (!host) return { refused: "an HTTP request without a Host header" };
  const match = /^([a-zA-Z0-9.-]+)(?::(\d{1,5}))?$/.exec(host);
  if (!match?.[1]) return { refused: `an unusable Host header '${host.slice(0, 100)}'` };
  return { name: match[1], port: 80 };
}
