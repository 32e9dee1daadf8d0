/**
 * Chromium (Debian's, driven by playwright-core): a page from one origin imports the built
 * package (`dist/`) as an ES module and drives the real reference server on another origin, so
 * every request goes through real CORS. The server allows only the page's origin; a page from a
 * third origin must be refused. Also runs examples/browser.html, its CDN import served from dist/.
 */
import { readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build, transform } from "esbuild";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../../support/chromium.ts";
import { sandboxHostMissing, startTestServer, type TestServer } from "../../support/server.ts";
import { requireSandboxHost } from "../../support/use-server.ts";
import type { ScenarioOptions, ScenarioResult } from "../scenario.ts";

const root = fileURLToPath(new URL("../../../", import.meta.url));

/** The test page: an import map to the built package, ofetch and valibot, as a buildless site has. */
const testPage = `<!doctype html>
<script type="importmap">
  { "imports": { "lumina-sandbox": "/dist/index.js", "ofetch": "/ofetch.js", "valibot": "/valibot.js" } }
</script>
<script type="module">
  import * as sdk from "lumina-sandbox";
  import { runScenario } from "/scenario.js";
  window.runScenario = (options) => runScenario(sdk, options);
  window.sdk = sdk;
  window.ready = true;
</script>`;

/** Serves the test page, the scenario as JavaScript, dist/, ofetch and valibot on 127.0.0.1, port 0. */
async function startStaticServer(): Promise<{ origin: string; server: Server }> {
  const scenario = await transform(await readFile(`${root}test/runtimes/scenario.ts`, "utf8"), {
    loader: "ts",
    format: "esm",
    target: "es2022",
  });
  const ofetch = await build({
    entryPoints: [`${root}node_modules/ofetch/dist/index.mjs`],
    bundle: true,
    format: "esm",
    write: false,
  });
  const files: Record<string, () => Promise<string>> = {
    "/": async () => testPage,
    "/scenario.js": async () => scenario.code,
    "/valibot.js": () => readFile(`${root}node_modules/valibot/dist/index.mjs`, "utf8"),
    // ofetch's browser build with its two small dependencies, as a CDN serves it.
    "/ofetch.js": async () => ofetch.outputFiles[0]!.text,
    "/examples/browser.html": () => readFile(`${root}examples/browser.html`, "utf8"),
  };
  const server = createServer(async (request, response) => {
    const path = new URL(request.url ?? "/", "http://x").pathname;
    // dist/ holds the entry and the chunks it imports; ".." cannot leave it after URL parsing.
    const file =
      files[path] ??
      (path.startsWith("/dist/") ? () => readFile(`${root}${path}`, "utf8") : undefined);
    if (!file) return void response.writeHead(404).end();
    const type = path.endsWith(".js") ? "text/javascript" : "text/html";
    response.writeHead(200, { "content-type": `${type}; charset=utf-8` }).end(await file());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

let lumina: TestServer;
let pages: { origin: string; server: Server };
let stranger: { origin: string; server: Server };
let context: BrowserContext;
let profile: string;

requireSandboxHost();

beforeAll(async () => {
  if (sandboxHostMissing) return;
  pages = await startStaticServer();
  stranger = await startStaticServer();
  lumina = await startTestServer({ corsOrigins: [pages.origin] });
  ({ context, profile } = await launchChromium());
  // Chromium's first start on a loaded 2-core machine can take over a minute.
}, 180_000);

afterAll(async () => {
  await context?.close();
  await lumina?.close();
  pages?.server.close();
  stranger?.server.close();
  // Chromium may still be writing its profile as it exits: retry the removal.
  if (profile) await rm(profile, { recursive: true, force: true, maxRetries: 5 });
});

/** Opens `url` and fails the test on any uncaught error in the page. */
async function open(url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  // Failed requests are logged too (the scenario's expected 409 among them): kept for diagnosis.
  page.on("console", (message) => {
    if (message.type() === "error") console.warn(`[${url}] ${message.text()}`);
  });
  await page.goto(url);
  return { page, errors };
}

/** Waits for the test page's module to load; fails at once with the page's errors if it cannot. */
async function ready(page: Page, errors: string[]): Promise<void> {
  await page
    .waitForFunction(() => window.ready === true, null, { timeout: 10_000 })
    .catch(() => {
      throw new Error(
        `the test page did not load: ${errors.join("; ") || "see the console above"}`,
      );
    });
}

declare global {
  interface Window {
    ready?: boolean;
    runScenario(options: ScenarioOptions): Promise<ScenarioResult>;
    sdk: typeof import("lumina-sandbox");
  }
}

describe("Chromium runs the built package from another origin", () => {
  it("passes the shared scenario through real CORS", async () => {
    const { page, errors } = await open(`${pages.origin}/`);
    await ready(page, errors);
    const options = { baseUrl: lumina.url, token: lumina.token, runtime: "chromium" };
    const result = await page.evaluate((o) => window.runScenario(o), options);
    expect(result.steps).toContain("destroySandbox");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("is refused by CORS from an origin the server does not allow", async () => {
    const { page, errors } = await open(`${stranger.origin}/`);
    await ready(page, errors);
    const refused = await page.evaluate(
      async ({ baseUrl, token }) => {
        const client = window.sdk.createClient({ baseUrl, token, sandbox: "never", retry: false });
        try {
          await client.listSandboxes();
          return "listed";
        } catch (error) {
          return `${(error as Error).name}: ${window.sdk.isNetworkError(error)}`;
        }
      },
      { baseUrl: lumina.url, token: lumina.token },
    );
    expect(refused).toBe("NetworkError: true");
    await page.close();
  });

  it("runs examples/browser.html, its CDN import served from dist/", async () => {
    // The example imports https://esm.sh/lumina-sandbox@…: answer with dist/, ofetch and valibot bundled.
    const bundled = await build({
      entryPoints: [`${root}dist/index.js`],
      bundle: true,
      format: "esm",
      write: false,
    });
    await context.route("https://esm.sh/**", (route) =>
      route.fulfill({ contentType: "text/javascript", body: bundled.outputFiles[0]!.text }),
    );
    const { page, errors } = await open(`${pages.origin}/examples/browser.html`);
    await page.fill("input[name=baseUrl]", lumina.url);
    await page.fill("input[name=token]", lumina.token);
    await page.fill("input[name=command]", "echo hello from $(whoami)");
    await page.click("button");
    const output = page.locator("#output");
    await output.filter({ hasText: /exit code|error/ }).waitFor();
    expect(await output.textContent()).toBe("hello from user\nexit code 0");
    expect(errors).toEqual([]);
    await page.close();
  });
});
