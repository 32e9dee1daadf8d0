/**
 * SECURITY.md, resources: grep's context repeats per match, so it is bounded on the way in (at
 * most 1000 lines a side) and the answer is bounded on the way out (saying it was truncated).
 */
import { expect, it } from "vitest";
import type { LuminaClient } from "../../src/index.ts";
import { useTestServer } from "../support/use-server.ts";
import { expectToolError, newSandboxClient } from "./sandbox-helpers.ts";

let lumina: LuminaClient;

const server = useTestServer({}, async () => {
  lumina = await newSandboxClient(server());
});

it("refuses more than 1000 context lines a side, naming the field", async () => {
  for (const field of ["context", "before", "after"] as const) {
    const message = await expectToolError(
      lumina.grep("a", { outputMode: "content", [field]: 1001 }),
      400,
      "invalid_request",
    );
    expect(message).toContain(field);
  }
});

it("cuts an answer whose repeated context would be huge, and says so", async () => {
  // 450 lines of 1990 characters, every one a match with all the others as context: ~400 MB
  // of JSON if nothing bounded it.
  await lumina.bash(`python3 -c 'print(("a" * 1990 + "\\n") * 450, end="")' > /home/user/amp.txt`);
  const result = await lumina.grep("a", {
    path: "/home/user/amp.txt",
    outputMode: "content",
    context: 450,
  });
  expect(result.totalMatches).toBe(450);
  expect(result.matches.length).toBeGreaterThan(0);
  expect(result.matches.length).toBeLessThan(450);
  expect(result.truncated).toBe(true);
  expect(JSON.stringify(result).length).toBeLessThan(20 * 1024 * 1024);
});
