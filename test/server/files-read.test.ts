import { writeFile as hostWrite } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { LuminaClient } from "../../src/index.ts";
import { pdfOf } from "../support/pdf.ts";
import { useTestServer } from "../support/use-server.ts";
import { expectToolError, hostHomeOf, newSandboxClient } from "./sandbox-helpers.ts";

let lumina: LuminaClient;

const server = useTestServer({}, async () => {
  lumina = await newSandboxClient(server());
});

const png1x1 = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=",
  "base64",
);

/** A one-page PDF with the text "Hello PDF", built by hand (offsets computed). */
function tinyPdf(text: string): Buffer {
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 100] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
    `<< /Length ${`BT /F1 18 Tf 20 40 Td (${text}) Tj ET`.length} >>\nstream\nBT /F1 18 Tf 20 40 Td (${text}) Tj ET\nendstream`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
  ];
  return pdfOf(objects);
}

describe("read: text", () => {
  it("numbers lines right-aligned in 4 columns, and a trailing newline adds no line", async () => {
    await lumina.write("/home/user/r/three.txt", "import os\nprint(1)\n\n");
    const result = await lumina.read("/home/user/r/three.txt");
    expect(result).toEqual({
      type: "text",
      content: "   1\timport os\n   2\tprint(1)\n   3\t\n",
      totalLines: 3,
      linesReturned: 3,
    });
  });

  it("counts a last line without a newline and widens numbers past 9999", async () => {
    const lines = Array.from({ length: 10_001 }, (_, i) => `line ${i + 1}`);
    await lumina.write("/home/user/r/many.txt", lines.join("\n"));
    const result = await lumina.read("/home/user/r/many.txt", { offset: 9999, limit: 5 });
    expect(result).toEqual({
      type: "text",
      content: "9999\tline 9999\n10000\tline 10000\n10001\tline 10001\n",
      totalLines: 10_001,
      linesReturned: 3,
    });
  });

  it("returns 2000 lines by default and honours offset and limit", async () => {
    const lines = Array.from({ length: 2500 }, (_, i) => `n${i + 1}`);
    await lumina.write("/home/user/r/long.txt", `${lines.join("\n")}\n`);
    const whole = await lumina.read("/home/user/r/long.txt");
    if (whole.type !== "text") throw new Error("expected text");
    expect(whole.linesReturned).toBe(2000);
    expect(whole.totalLines).toBe(2500);
    expect(whole.content.split("\n")[1999]).toBe("2000\tn2000");
    const ranged = await lumina.read("/home/user/r/long.txt", { offset: 50, limit: 2 });
    expect(ranged).toMatchObject({ content: "  50\tn50\n  51\tn51\n", linesReturned: 2 });
  });

  it("gives zero lines for an empty file and for an offset past the end", async () => {
    await lumina.write("/home/user/r/empty.txt", "");
    expect(await lumina.read("/home/user/r/empty.txt")).toEqual({
      type: "text",
      content: "",
      totalLines: 0,
      linesReturned: 0,
    });
    await lumina.write("/home/user/r/two.txt", "a\nb\n");
    expect(await lumina.read("/home/user/r/two.txt", { offset: 10 })).toMatchObject({
      content: "",
      totalLines: 2,
      linesReturned: 0,
    });
  });

  it("cuts lines over 2000 characters with a visible marker", async () => {
    await lumina.write("/home/user/r/wide.txt", `${"x".repeat(5000)}\nshort\n`);
    const result = await lumina.read("/home/user/r/wide.txt");
    if (result.type !== "text") throw new Error("expected text");
    const [first, second] = result.content.split("\n");
    expect(first!.startsWith(`   1\t${"x".repeat(2000)}`)).toBe(true);
    expect(first!.slice(5 + 2000)).toMatch(/truncated/);
    expect(second).toBe("   2\tshort");
  });

  it("reads a range of a huge file and still reports its line count", async () => {
    const home = await hostHomeOf(server(), lumina);
    // 200 MB written on the host side: the agent must stream it, not load it.
    const line = `${"y".repeat(99)}\n`;
    const block = line.repeat(10_000);
    const path = join(home, "huge.txt");
    await hostWrite(path, "");
    const { appendFile, chown } = await import("node:fs/promises");
    for (let i = 0; i < 200; i++) await appendFile(path, block);
    const { stat } = await import("node:fs/promises");
    const owner = await stat(home);
    await chown(path, owner.uid, owner.gid);
    const result = await lumina.read("/home/user/huge.txt", { offset: 1_000_000, limit: 2 });
    expect(result).toMatchObject({ totalLines: 2_000_000, linesReturned: 2 });
    if (result.type === "text") expect(result.content.startsWith("1000000\ty")).toBe(true);
  });
});

describe("read: images, PDFs and binaries", () => {
  it("returns an image (recognised by content) as base64 with its type and size", async () => {
    const home = await hostHomeOf(server(), lumina);
    await hostWrite(join(home, "pixel.dat"), png1x1);
    const result = await lumina.read("/home/user/pixel.dat");
    expect(result).toEqual({
      type: "image",
      image: png1x1.toString("base64"),
      mimeType: "image/png",
      fileSize: png1x1.length,
    });
    const gif = Buffer.from("GIF89a\x01\x00\x01\x00\x00\x00\x00;", "latin1");
    await hostWrite(join(home, "g.gif"), gif);
    expect(await lumina.read("/home/user/g.gif")).toMatchObject({ mimeType: "image/gif" });
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46]);
    await hostWrite(join(home, "j.jpg"), jpeg);
    expect(await lumina.read("/home/user/j.jpg")).toMatchObject({ mimeType: "image/jpeg" });
    const webp = Buffer.concat([
      Buffer.from("RIFF\x1a\x00\x00\x00WEBPVP8 ", "latin1"),
      Buffer.alloc(8),
    ]);
    await hostWrite(join(home, "w.webp"), webp);
    expect(await lumina.read("/home/user/w.webp")).toMatchObject({ mimeType: "image/webp" });
  });

  it("returns a PDF as text per page", async () => {
    const home = await hostHomeOf(server(), lumina);
    await hostWrite(join(home, "doc.pdf"), tinyPdf("Hello PDF"));
    const result = await lumina.read("/home/user/doc.pdf");
    expect(result).toMatchObject({ type: "pdf", totalPages: 1 });
    if (result.type === "pdf") {
      expect(result.pages[0]!.pageNumber).toBe(1);
      expect(result.pages[0]!.text).toContain("Hello PDF");
    }
  });

  it("refuses other binaries with unsupported_file", async () => {
    const home = await hostHomeOf(server(), lumina);
    await hostWrite(join(home, "blob.bin"), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1, 2]));
    await expectToolError(lumina.read("/home/user/blob.bin"), 400, "unsupported_file");
  });
});

describe("read: errors", () => {
  it("answers 404 naming a missing path", async () => {
    const message = await expectToolError(
      lumina.read("/home/user/nope/missing.txt"),
      404,
      "not_found",
    );
    expect(message).toContain("/home/user/nope/missing.txt");
  });

  it("refuses a relative path with invalid_path, saying to use an absolute one", async () => {
    const message = await expectToolError(lumina.read("notes.txt"), 400, "invalid_path");
    expect(message).toMatch(/absolute path like \/home\/user\//);
  });

  it("refuses a directory, saying it is one", async () => {
    const message = await expectToolError(lumina.read("/home/user"), 400, "invalid_request");
    expect(message).toMatch(/directory/);
  });

  it("refuses FIFOs, devices and sockets without blocking, and symlink loops", async () => {
    await lumina.bash(
      "cd /home/user && mkfifo fifo && ln -s loop1 loop2 && ln -s loop2 loop1 && python3 -c \"import socket; s=socket.socket(socket.AF_UNIX); s.bind('sock')\" || true",
    );
    await expectToolError(lumina.read("/home/user/fifo"), 400, "invalid_request");
    await expectToolError(lumina.read("/dev/zero"), 400, "invalid_request");
    await expectToolError(lumina.read("/home/user/loop1"), 400, "invalid_request");
    const sock = await lumina.bash("test -S /home/user/sock && echo yes");
    if (sock.output.trim() === "yes") {
      await expectToolError(lumina.read("/home/user/sock"), 400, "invalid_request");
    }
  });

  it("refuses .., NUL bytes and over-long paths with 400", async () => {
    await expectToolError(lumina.read("/home/user/../../etc/passwd"), 400, "invalid_path");
    await expectToolError(lumina.read("/home/user/a\u0000b"), 400, "invalid_path");
    await expectToolError(lumina.read(`/home/user/${"a".repeat(300)}`), 400, "invalid_path");
    await expectToolError(lumina.read(`/home/user/${"abc/".repeat(1100)}x`), 400, "invalid_path");
  });
});
