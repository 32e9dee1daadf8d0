/** The piecewise JSON writer of large answers gives exactly what JSON.stringify gives. */
import { describe, expect, it } from "vitest";
import { jsonChunks } from "../../server/http/json-chunks.ts";

const joined = (value: unknown, chunkChars?: number) => [...jsonChunks(value, chunkChars)].join("");

describe("jsonChunks", () => {
  it("matches JSON.stringify on answers of every shape", () => {
    const values: unknown[] = [
      { type: "image", image: "A".repeat(300_000), mime_type: "image/png", file_size: 1 },
      { pages: [{ page_number: 1, text: 'quote " back \\ nl \n tab \t' }], none: undefined },
      [1, undefined, null, "x", () => 1, { nested: [[], {}] }],
      { when: new Date(0), n: Number.NaN, big: 1e300, empty: "" },
      "plain",
      42,
      null,
    ];
    for (const value of values) expect(joined(value, 7)).toBe(JSON.stringify(value));
  });

  it("never splits a surrogate pair across pieces", () => {
    const text = "a😀".repeat(50_000);
    for (const size of [2, 3, 64 * 1024]) {
      expect(joined({ text }, size)).toBe(JSON.stringify({ text }));
    }
  });

  it("yields pieces of about the asked size, not one string", () => {
    const pieces = [...jsonChunks({ image: "B".repeat(1_000_000) }, 64 * 1024)];
    expect(pieces.length).toBeGreaterThan(10);
    expect(Math.max(...pieces.map((piece) => piece.length))).toBeLessThan(2 * 64 * 1024);
  });
});
