/**
 * Debian's Chromium, headless, on a fresh profile: the flags keep it off every network but the
 * pages a test serves (background services would dial out and fail on this closed machine).
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { type BrowserContext, chromium } from "playwright-core";

/** Where Debian installs Chromium (`apt-get install chromium`); nothing downloads a browser. */
export const chromiumPath = "/usr/bin/chromium";

/** Starts Chromium on a new profile directory; remove `profile` after closing `context`. */
export async function launchChromium(): Promise<{ context: BrowserContext; profile: string }> {
  const profile = await mkdtemp(`${tmpdir()}/lumina-chromium-`);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return { context, profile };
}
