import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Tests start real servers and sandboxes: generous limits, so a busy 2-core machine does not flake.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Type tests (*.test-d.ts) are compiled by `npm run typecheck` (tsconfig.node.json), not here.
  },
});
