/**
 * SECURITY.md, resources: the PDF parsers are shared by every user, so one user's flood of slow
 * PDFs must not make another's tiny PDF wait behind all of it, and the parsers run without root.
 */
import { writeFile as hostWrite, readdir, readFile, readlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { createLuminaServer } from "../../server/index.ts";
import { pdfParserLoad, pdfParserUids } from "../../server/tools/pdf.ts";
import { createClient, isToolError, type LuminaClient } from "../../src/index.ts";
import { pdfOf } from "../support/pdf.ts";
import { randomSandboxName } from "../support/server.ts";
import { useTestServer } from "../support/use-server.ts";
import { hostHomeOf } from "./sandbox-helpers.ts";

/** How many slow PDFs the attacker asks for at once (LUMINA_PDF_FLOOD overrides). */
const floodCount = Number(process.env["LUMINA_PDF_FLOOD"] ?? 10);

let attacker: LuminaClient;
let victim: LuminaClient;

/** A PDF of `pages` pages sharing one content stream of `operations` text-showing operators. */
function textPdf(pages: number, operations: number): Buffer {
  const content = deflateSync(
    Buffer.from(`BT /F1 1 Tf ${"(ab) Tj 1 0 Td ".repeat(operations)} ET`),
  );
  const font = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>";
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    `<< /Type /Pages /Kids [${Array.from({ length: pages }, (_, i) => `${4 + i} 0 R`).join(" ")}] /Count ${pages} >>`,
    content,
    ...Array.from(
      { length: pages },
      () =>
        `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 100] /Resources << /Font << /F1 ${font} >> >> /Contents 3 0 R >>`,
    ),
  ];
  return pdfOf(objects);
}

const server = useTestServer(
  {},
  async () => {
    const client = (token: string) =>
      createClient({ baseUrl: server().url, token, sandbox: randomSandboxName("p"), retry: false });
    attacker = client(server().token);
    victim = client(server().addUser("victim"));
    await attacker.createSandbox({ eager: true });
    await victim.createSandbox({ eager: true });
    // About a second of parsing each on an idle core: slow next to the victim's one line.
    await hostWrite(join(await hostHomeOf(server(), attacker), "slow.pdf"), textPdf(12, 20_000));
    await hostWrite(join(await hostHomeOf(server(), victim), "tiny.pdf"), textPdf(1, 1));
  },
  120_000,
);

/** The uid and working directory of every running PDF parser that this process started. */
async function runningParsers(): Promise<{ uid: number; cwd: string }[]> {
  const found: { uid: number; cwd: string }[] = [];
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (!cmdline.includes("pdf-worker.mjs")) continue;
    if (Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]) !== process.pid) continue;
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
    found.push({ uid, cwd: await readlink(`/proc/${pid}/cwd`).catch(() => "?") });
  }
  return found;
}

describe("PDF parsing under a flood from another user", () => {
  it("starts the victim's parse before the attacker's pile drains, and never as root", async () => {
    let attackerParsed = 0;
    const refusals: string[] = [];
    const flood = Array.from({ length: floodCount }, () =>
      attacker.read("/home/user/slow.pdf").then(
        () => void attackerParsed++,
        (error: unknown) => {
          refusals.push(isToolError(error) ? error.code : String(error));
        },
      ),
    );
    // Wait until the pool is full and the attacker's pile is waiting behind it.
    await expect
      .poll(() => pdfParserLoad(), { timeout: 30_000, interval: 20 })
      .toMatchObject({ running: 2, waiting: expect.any(Number) });
    await expect
      .poll(() => pdfParserLoad().waiting, { timeout: 30_000, interval: 20 })
      .toBeGreaterThan(2);
    const parsers = await runningParsers();
    expect(parsers.length).toBeGreaterThan(0);
    for (const { uid, cwd } of parsers) {
      expect(pdfParserUids).toContain(uid);
      expect(cwd).toBe("/");
    }
    // Parsers running side by side have uids of their own: neither can reach the other's PDF.
    expect(new Set(parsers.map(({ uid }) => uid)).size).toBe(parsers.length);

    const started = Date.now();
    const read = await victim.read("/home/user/tiny.pdf");
    const latency = Date.now() - started;
    const parsedBefore = attackerParsed;
    await Promise.all(flood);
    console.log(
      `victim's tiny PDF: ${latency} ms under ${floodCount} slow PDFs; attacker parsed ` +
        `${parsedBefore} before it and ${attackerParsed} in all, refused ${refusals.length}`,
    );
    expect(read.type === "pdf" && read.pages[0]?.text).toContain("ab");
    // Round-robin: the victim waits for about one of the attacker's parses, not all of them.
    expect(parsedBefore).toBeLessThan(Math.min(floodCount, 8) / 2);
    // Past the per-user cap the attacker is told to wait, never failed otherwise.
    for (const code of refusals) expect(code).toBe("rate_limited");
    expect(attackerParsed + refusals.length).toBe(floodCount);
  }, 180_000);
});

describe("the PDF parsers' uids", () => {
  it("are refused as part of a sandbox uid block, so no sandbox can share it", async () => {
    await expect(
      createLuminaServer({
        dataDir: join(tmpdir(), "lumina-never-created"),
        hostUidBase: (pdfParserUids[0] as number) - 10,
        port: 0,
      }),
    ).rejects.toThrow(/PDF parsers' uid/);
  });
});
