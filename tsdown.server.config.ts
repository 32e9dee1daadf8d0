import { defineConfig } from "tsdown";

/**
 * The reference server as a plain-Node program: `dist-server/lumina-server.js` (the CLI), the
 * sandbox agent prebuilt beside it, and the PDF worker copied as it is. Kept apart from
 * tsdown.config.ts so the SDK's build, exports and release checks never see it; the server's
 * dependencies (hono, better-sqlite3's native addon, jose, unpdf) stay imports from node_modules.
 */
export default defineConfig([
  {
    entry: { "lumina-server": "server/main.ts" },
    outDir: "dist-server",
    format: "esm",
    platform: "node",
    target: "node20",
    dts: false,
    clean: true,
    sourcemap: false,
    fixedExtension: false,
    deps: { neverBundle: [/^[^./]/] },
    copy: [{ from: "server/tools/pdf-worker.mjs", to: "dist-server" }],
  },
  {
    // Bundled whole: the sandbox sees no node_modules.
    entry: { "lumina-agent": "server/agent/main.ts" },
    outDir: "dist-server",
    format: "esm",
    platform: "node",
    target: "node20",
    dts: false,
    clean: false,
    sourcemap: false,
    fixedExtension: false,
    deps: { alwaysBundle: [/.*/], onlyBundle: false },
  },
]);
