import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: [
      "test/deno/**",
      "test/bun/**",
      "test/workers/**",
      "test/browser/**",
      "node_modules/**",
    ],
    // Tests start real servers and sandboxes: generous limits, so a busy 2-core machine does not flake.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    typecheck: { enabled: true, include: ["test/**/*.test-d.ts"], tsconfig: "tsconfig.node.json" },
  },
});
