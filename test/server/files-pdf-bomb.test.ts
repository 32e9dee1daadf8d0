/**
 * A PDF bomb: a few hundred KB whose content stream inflates to ~400 MB. Its text is extracted
 * outside the server's process, so the read ends in a clean 4xx, the server answers health
 * checks meanwhile, and its memory does not balloon.
 */
import { writeFile as hostWrite } from "node:fs/promises";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import type { LuminaClient } from "../../src/index.ts";
import { pdfOf } from "../support/pdf.ts";
import { useTestServer } from "../support/use-server.ts";
import { expectToolError, hostHomeOf, newSandboxClient } from "./sandbox-helpers.ts";

let lumina: LuminaClient;

const server = useTestServer({}, async () => {
  lumina = await newSandboxClient(server());
});

/** A one-page PDF whose content stream is `inflatedBytes` zeros, FlateDecode-compressed. */
function bombPdf(inflatedBytes: number): Buffer {
  const stream = deflateSync(Buffer.alloc(inflatedBytes), { level: 9 });
  const objects: (string | Buffer)[] = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 100] /Contents 4 0 R >>",
    stream,
  ];
  return pdfOf(objects);
}

describe("read: a PDF bomb", () => {
  it("answers a clean 4xx while the server stays responsive and small", async () => {
    const home = await hostHomeOf(server(), lumina);
    const pdf = bombPdf(400 * 1024 * 1024);
    expect(pdf.length).toBeLessThan(1024 * 1024);
    await hostWrite(join(home, "bomb.pdf"), pdf);

    const rssBefore = process.memoryUsage.rss();
    let rssPeak = rssBefore;
    let done = false;
    const reading = expectToolError(lumina.read("/home/user/bomb.pdf"), 400, "unsupported_file");
    void reading.finally(() => {
      done = true;
    });
    const healthTimes: number[] = [];
    while (!done) {
      const started = Date.now();
      const health = await fetch(`${server().url}/v1/health`);
      expect(health.status).toBe(200);
      healthTimes.push(Date.now() - started);
      rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await reading).toMatch(/too large or complex/);
    // The server's process (this one) never held the inflated stream.
    expect(rssPeak - rssBefore).toBeLessThan(200 * 1024 * 1024);
    expect(healthTimes.length).toBeGreaterThan(0);
    expect(Math.max(...healthTimes)).toBeLessThan(2000);
    expect((await fetch(`${server().url}/v1/health`)).status).toBe(200);
  }, 60_000);
});
