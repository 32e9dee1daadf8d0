/** CONTRACT §3: a bash call's `description` is informational and lands in the server's log. */
import { expect, it } from "vitest";
import type { LuminaClient } from "../../src/index.ts";
import { useTestServer } from "../support/use-server.ts";
import { newSandboxClient } from "./sandbox-helpers.ts";

const logged: string[] = [];
let lumina: LuminaClient;

const server = useTestServer({ log: (line) => logged.push(line) }, async () => {
  lumina = await newSandboxClient(server());
});

it("logs the description of a bash call, and the command's answer is unchanged", async () => {
  const result = await lumina.bash("echo built", { description: "Build the project" });
  expect(result.output).toBe("built\n");
  expect(logged.some((line) => line.includes('"Build the project"'))).toBe(true);
  expect(logged.some((line) => line.includes(lumina.sandbox))).toBe(true);
});
