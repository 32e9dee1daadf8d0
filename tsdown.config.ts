import { defineConfig } from "tsdown";

export default defineConfig({
  entry: {
    index: "src/index.ts",
    tools: "src/agent-tools/index.ts",
    "tools/ai-sdk": "src/adapters/ai-sdk.ts",
    "tools/anthropic": "src/adapters/anthropic.ts",
    "tools/openai": "src/adapters/openai.ts",
    agent: "src/agent/index.ts",
    mcp: "src/mcp/index.ts",
    cli: "src/cli/main.ts",
  },
  format: "esm",
  platform: "neutral",
  dts: true,
  clean: true,
  sourcemap: false,
  // Optional peers stay imports: a user of one adapter never gets another's library bundled.
  external: ["ai", /^@modelcontextprotocol\/sdk/, /^node:/],
});
