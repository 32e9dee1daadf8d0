/**
 * A preview in a real browser (Debian's Chromium, driven by playwright-core, as the runtime tests
 * do): a page served from inside a sandbox loads its own absolute-path script through the
 * host-name form, which is what that form is for (`*.localhost` resolves to loopback there).
 */
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import type { BrowserContext } from "playwright-core";
import { afterAll, expect, it } from "vitest";
import { createClient } from "../../src/index.ts";
import { chromiumPath, launchChromium } from "../support/chromium.ts";
import { randomSandboxName } from "../support/server.ts";
import { useTestServer } from "../support/use-server.ts";
import { randomPort, startApp } from "./preview-helpers.ts";

const server = useTestServer({ diskQuota: false });
let context: BrowserContext | undefined;
let profile: string | undefined;

afterAll(async () => {
  await context?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

it.skipIf(!existsSync(chromiumPath))(
  "loads a sandbox's page and its absolute-path script through the host-name form",
  async () => {
    const client = createClient({
      baseUrl: server().url,
      token: server().token,
      sandbox: randomSandboxName("pb"),
    });
    await client.createSandbox();
    const port = randomPort();
    await startApp(client, port);
    const { url } = await client.exposePort(port);
    ({ context, profile } = await launchChromium());
    const page = await context.newPage();
    const scripts: number[] = [];
    page.on("response", (response) => {
      if (response.url().endsWith("/app.js")) scripts.push(response.status());
    });
    await page.goto(`${url}page`);
    // The page's <script src="/app.js"> sets the title: only an origin of its own resolves it.
    await page.waitForFunction(() => document.title.startsWith("loaded from"), null, {
      timeout: 15_000,
    });
    expect(await page.title()).toBe(`loaded from ${new URL(url).host}`);
    expect(scripts).toEqual([200]);
    await client.destroySandbox();
  },
);
