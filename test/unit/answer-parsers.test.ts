/**
 * `toReadResult` picks the schema of the answer's `type` itself, so that the SDK entry does not
 * bundle `v.variant`. These cases pin that it accepts and rejects exactly what the published
 * variant (`fileAnswers.read`, the one the OpenAPI document is built from) does, with its message.
 * `toGrepResult` checks the answer against the mode asked for; an unknown mode accepts nothing.
 */
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../src/errors.ts";
import { fileAnswers, toReadResult } from "../../src/protocol/files.ts";
import { toGrepResult } from "../../src/protocol/search.ts";

const text = { type: "text", content: "   1\tx\n", total_lines: 1, lines_returned: 1 };
const image = { type: "image", image: "iVBO", mime_type: "image/png", file_size: 4 };
const pdf = { type: "pdf", pages: [{ page_number: 1, text: "hi" }], total_pages: 1 };

const bodies: [string, unknown][] = [
  ["a text file", text],
  ["an image", image],
  ["a pdf", pdf],
  ["a text file missing a field", { type: "text", content: "", total_lines: 0 }],
  ["an image with a wrong field", { ...image, file_size: "4" }],
  ["a pdf with a wrong page", { ...pdf, pages: [{ page_number: "1", text: "" }] }],
  ["an unknown type", { type: "video" }],
  ["a type that is not a string", { ...text, type: 1 }],
  ["no type", { content: "" }],
  ["an empty object", {}],
  ["an array", [text]],
  ["null", null],
  ["no body", undefined],
  ["a string", "text"],
];

/** The message `parseAnswer` builds from the variant's first issue. */
function variantOutcome(body: unknown): string {
  const result = v.safeParse(fileAnswers.read, body, { abortEarly: true });
  if (result.success) return "ok";
  const issue = result.issues[0];
  let path = "";
  for (const item of issue.path ?? [])
    path +=
      typeof item.key === "number" ? `[${item.key}]` : `${path ? "." : ""}${String(item.key)}`;
  return `Malformed read answer: ${path ? `${path}: ` : ""}expected ${issue.expected}, received ${issue.received}`;
}

function ownOutcome(body: unknown): string {
  try {
    toReadResult(body);
    return "ok";
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as Error).message;
  }
}

describe("toReadResult", () => {
  it.each(bodies)("judges %s as the read variant does", (_, body) => {
    expect(ownOutcome(body)).toBe(variantOutcome(body));
  });

  it("maps each type's fields to camelCase", () => {
    expect(toReadResult(image)).toEqual({
      type: "image",
      image: "iVBO",
      mimeType: "image/png",
      fileSize: 4,
    });
    expect(toReadResult(pdf)).toEqual({
      type: "pdf",
      pages: [{ pageNumber: 1, text: "hi" }],
      totalPages: 1,
    });
  });
});

describe("toGrepResult", () => {
  it("rejects every answer to an unknown mode, as expecting nothing", () => {
    const files = { mode: "files_with_matches", files: ["/a"], count: 1 };
    expect(toGrepResult(files, "files_with_matches")).toEqual(files);
    const unknownMode = "lines" as "count";
    expect(() => toGrepResult(files, unknownMode)).toThrow(
      new ValidationError("Malformed grep answer: expected never, received Object", ""),
    );
  });
});
