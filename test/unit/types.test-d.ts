import type { Fetcher } from "@cloudflare/workers-types/index.ts";
import { describe, expectTypeOf, it } from "vitest";
import {
  createClient,
  type GrepContentResult,
  type GrepCountResult,
  type GrepFilesResult,
  type GrepResult,
  type ImageFileResult,
  type LuminaClient,
  type PdfFileResult,
  type ReadResult,
  type TextFileResult,
} from "../../src/index.ts";

declare const lumina: LuminaClient;
const base = { baseUrl: "http://localhost:8080", token: "t", sandbox: "s" };

describe("read", () => {
  it("returns a union discriminated by type", () => {
    expectTypeOf(lumina.read("/a")).resolves.toEqualTypeOf<ReadResult>();
    expectTypeOf<ReadResult>().toEqualTypeOf<TextFileResult | ImageFileResult | PdfFileResult>();
    expectTypeOf<ReadResult["type"]>().toEqualTypeOf<"text" | "image" | "pdf">();
    const narrow = (file: ReadResult) => {
      if (file.type === "text") expectTypeOf(file.totalLines).toBeNumber();
      else if (file.type === "image") expectTypeOf(file.mimeType).toBeString();
      else expectTypeOf(file.pages[0]!.pageNumber).toBeNumber();
    };
    expectTypeOf(narrow).toBeFunction();
  });
});

describe("grep", () => {
  it("narrows its result by the literal outputMode", () => {
    expectTypeOf(lumina.grep("x")).resolves.toEqualTypeOf<GrepFilesResult>();
    expectTypeOf(
      lumina.grep("x", { outputMode: "files_with_matches" }),
    ).resolves.toEqualTypeOf<GrepFilesResult>();
    expectTypeOf(
      lumina.grep("x", { outputMode: "content" }),
    ).resolves.toEqualTypeOf<GrepContentResult>();
    expectTypeOf(
      lumina.grep("x", { outputMode: "count" }),
    ).resolves.toEqualTypeOf<GrepCountResult>();
    expectTypeOf(
      lumina.grep("x", { outputMode: "content" as "content" | "count" }),
    ).resolves.toEqualTypeOf<GrepResult>();
    expectTypeOf<GrepContentResult["matches"][number]["lineNumber"]>().toEqualTypeOf<
      number | null
    >();
  });
});

describe("the fetch option", () => {
  it("accepts a bound Workers service binding without a cast", () => {
    const env = {} as { LUMINA: Fetcher };
    expectTypeOf(
      createClient({ ...base, fetch: env.LUMINA.fetch.bind(env.LUMINA) }),
    ).toEqualTypeOf<LuminaClient>();
  });

  it("accepts globalThis.fetch and an in-process handler", () => {
    createClient({ ...base, fetch: globalThis.fetch });
    createClient({ ...base, fetch: async (request: Request) => new Response(request.url) });
    createClient({ ...base, fetch: (request: Request) => new Response(request.method) });
  });

  it("rejects what is not a fetch", () => {
    // @ts-expect-error: a function that does not return a response
    createClient({ ...base, fetch: async (request: Request) => request.url });
    // @ts-expect-error: the required options
    createClient({ baseUrl: "http://x" });
  });
});

describe("results", () => {
  it("types bashOutput and streamOutput", () => {
    expectTypeOf(lumina.bashOutput("bash_1"))
      .resolves.toHaveProperty("exitCode")
      .toEqualTypeOf<number | null>();
    expectTypeOf(lumina.streamOutput("bash_1")).toMatchTypeOf<AsyncIterable<{ cursor: number }>>();
    expectTypeOf(lumina.destroySandbox()).resolves.toBeVoid();
  });
});
