/**
 * Every error class of every entry of the package extends the base `LuminaError` and has an
 * `is*` guard in the same entry that recognises it, also when it comes from another realm.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { LuminaError } from "../../src/index.ts";

const jsr = JSON.parse(readFileSync(new URL("../../jsr.json", import.meta.url), "utf8")) as {
  exports: Record<string, string>;
};

/** A copy of an error of `name` as another realm makes it: same brand, another class. */
function foreign(name: string): Error {
  const error = Object.assign(new Error("elsewhere"), { name });
  Object.defineProperty(error, Symbol.for("lumina-sandbox.error"), { value: true });
  return error;
}

describe("the error classes of every entry", () => {
  for (const [subpath, file] of Object.entries(jsr.exports)) {
    it(`${subpath}: each extends LuminaError and has a guard that works across realms`, async () => {
      const entry = (await import(/* @vite-ignore */ `../../${file}`)) as Record<string, unknown>;
      const classes = Object.entries(entry).filter(
        (pair): pair is [string, abstract new (...args: never[]) => Error] =>
          typeof pair[1] === "function" && pair[1].prototype instanceof Error,
      );
      for (const [name, errorClass] of classes) {
        if (errorClass === LuminaError) continue;
        expect(errorClass.prototype, `${subpath} ${name}`).toBeInstanceOf(LuminaError);
        const guard = entry[`is${name}`] as ((value: unknown) => boolean) | undefined;
        expect(typeof guard, `${subpath} exports is${name}`).toBe("function");
        expect(guard!(foreign(name)), `is${name} of a foreign ${name}`).toBe(true);
        expect(guard!(foreign(`Not${name}`)), `is${name} of another error`).toBe(false);
        expect(guard!(Object.assign(new Error("x"), { name })), `is${name} unbranded`).toBe(false);
      }
    });
  }

  it("covers the classes outside the core entry", async () => {
    const { ToolInputError, isToolInputError } = await import("../../src/agent-tools/index.ts");
    const { AnthropicApiError, isAnthropicApiError } = await import("../../src/agent/index.ts");
    const input = new ToolInputError("Read", []);
    const api = new AnthropicApiError(529, "overloaded_error", "busy", "req_1");
    expect(input).toBeInstanceOf(LuminaError);
    expect(api).toBeInstanceOf(LuminaError);
    expect([isToolInputError(input), isToolInputError(api)]).toEqual([true, false]);
    expect([isAnthropicApiError(api), isAnthropicApiError(input)]).toEqual([true, false]);
    expect(JSON.parse(JSON.stringify(api))).toMatchObject({ status: 529, requestId: "req_1" });
  });
});
