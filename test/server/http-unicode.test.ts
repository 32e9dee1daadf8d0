/**
 * Request bodies are Unicode text: raw bytes that are not UTF-8, and strings with a lone
 * surrogate escape, are refused with a 400 naming where, instead of being written with U+FFFD
 * in their place.
 */
import { describe, expect, it } from "vitest";
import type { LuminaClient } from "../../src/index.ts";
import { errorCode, rawCall } from "../support/http.ts";
import { useTestServer } from "../support/use-server.ts";
import { expectToolError, newSandboxClient } from "./sandbox-helpers.ts";

let lumina: LuminaClient;

const server = useTestServer({}, async () => {
  lumina = await newSandboxClient(server());
});

/** Posts raw bytes as a JSON body to one of the sandbox's tools. */
function postTool(tool: string, body: Uint8Array) {
  return rawCall(server().url, `/v1/sandboxes/${lumina.sandbox}/tools/${tool}`, {
    token: server().token,
    session: "unicode-test",
    body,
  });
}

function errorMessage(answer: { json: unknown }): string {
  return (answer.json as { error: { message: string } }).error.message;
}

describe("raw body bytes", () => {
  it("a write whose body has a byte that is not UTF-8 is a 400 naming its offset", async () => {
    const head = Buffer.from('{"file_path":"/home/user/bytes.txt","content":"ab');
    const body = Buffer.concat([head, Buffer.from([0xff]), Buffer.from('c"}')]);
    const answer = await postTool("write", body);
    expect({ status: answer.status, code: errorCode(answer) }).toEqual({
      status: 400,
      code: "invalid_request",
    });
    expect(errorMessage(answer)).toContain(`byte ${head.length} (0xff)`);
    expect(errorMessage(answer)).toMatch(/UTF-8/);
    // Nothing was written in its place.
    await expectToolError(lumina.read("/home/user/bytes.txt"), 404, "not_found");
  });

  it("a truncated multi-byte sequence and an encoded surrogate are refused too", async () => {
    for (const bad of [
      [0xe2, 0x82],
      [0xed, 0xa0, 0x80],
      [0xc0, 0xaf],
    ]) {
      const head = Buffer.from('{"file_path":"/home/user/seq.txt","content":"x');
      const answer = await postTool(
        "write",
        Buffer.concat([head, Buffer.from(bad), Buffer.from('"}')]),
      );
      expect(answer.status).toBe(400);
      expect(errorMessage(answer)).toContain(`byte ${head.length} `);
    }
  });

  it("applies to every endpoint, not only the tools", async () => {
    const body = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xfe]), Buffer.from('"}')]);
    const answer = await rawCall(server().url, "/v1/sandboxes", { token: server().token, body });
    expect({ status: answer.status, code: errorCode(answer) }).toEqual({
      status: 400,
      code: "invalid_request",
    });
    expect(errorMessage(answer)).toContain("byte 9 (0xfe)");
  });
});

describe("lone surrogate escapes", () => {
  it("a write whose content holds a lone surrogate is a 400 naming the field and offset", async () => {
    const message = await expectToolError(
      lumina.write("/home/user/lone.txt", "héllo \ud800 world"),
      400,
      "invalid_request",
    );
    expect(message).toContain("content");
    expect(message).toContain("\\ud800");
    expect(message).toContain("character offset 6");
    await expectToolError(lumina.read("/home/user/lone.txt"), 404, "not_found");
  });

  it("an edit whose new_string holds a lone low surrogate is refused and changes nothing", async () => {
    await lumina.write("/home/user/edit.txt", "keep me\n");
    await lumina.read("/home/user/edit.txt");
    const message = await expectToolError(
      lumina.edit("/home/user/edit.txt", "keep", "x\udc00"),
      400,
      "invalid_request",
    );
    expect(message).toContain("new_string");
    expect(message).toContain("character offset 1");
    const after = await lumina.read("/home/user/edit.txt");
    expect(after.type === "text" && after.content).toBe("   1\tkeep me\n");
  });

  it("characters outside the BMP (surrogate pairs) are written byte for byte", async () => {
    const text = "emoji 😀 and 𝄞\n";
    const written = await lumina.write("/home/user/pairs.txt", text);
    expect(written.bytesWritten).toBe(Buffer.byteLength(text));
    const dump = await lumina.bash("od -An -tx1 /home/user/pairs.txt | tr -d ' \\n'");
    expect(dump.output).toBe(Buffer.from(text).toString("hex"));
  });
});
