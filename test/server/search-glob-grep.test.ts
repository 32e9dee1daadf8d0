import { describe, expect, it } from "vitest";
import type { LuminaClient } from "../../src/index.ts";
import { useTestServer } from "../support/use-server.ts";
import { expectToolError, newSandboxClient } from "./sandbox-helpers.ts";

let lumina: LuminaClient;

const server = useTestServer({}, async () => {
  lumina = await newSandboxClient(server());
  await lumina.bash(
    [
      "mkdir -p /home/user/p/src/deep /home/user/p/.git /home/user/p/.hidden /home/user/p/empty-dir",
      "cd /home/user/p",
      "printf 'node_modules\\nignored.ts\\n' > .gitignore",
      "printf 'const a = 1;\\nTODO: fix\\n' > ignored.ts",
      "printf 'TODO in git\\n' > .git/config.ts",
      "printf 'secret TODO\\n' > .hidden/h.ts",
      "printf 'one\\ntwo\\nTODO three\\nfour\\nTODO five\\nsix\\nseven\\n' > src/a.ts",
      "printf 'todo lower\\nclass A:\\n    def __init__(self):\\n        pass\\n' > src/deep/b.py",
      "printf 'no match here\\n' > src/c.md",
      "touch -d '2020-01-01' src/c.md; touch -d '2021-01-01' src/deep/b.py; touch -d '2022-01-01' src/a.ts",
    ].join(" && "),
  );
});

describe("glob", () => {
  it("finds files only, hidden included, .git skipped, .gitignore not applied, newest first", async () => {
    const result = await lumina.glob("**/*.ts", { path: "/home/user/p" });
    expect(result.matches).toEqual(
      [
        // Created now (newest) first, then by the dates set above.
        ...["/home/user/p/.hidden/h.ts", "/home/user/p/ignored.ts"].sort(),
        "/home/user/p/src/a.ts",
      ].sort((a, b) => (a.includes("src/a.ts") ? 1 : b.includes("src/a.ts") ? -1 : a < b ? -1 : 1)),
    );
    expect(result).toMatchObject({ count: 3, searchPath: "/home/user/p", truncated: false });
    const all = await lumina.glob("**", { path: "/home/user/p" });
    expect(all.matches).not.toContain("/home/user/p/empty-dir");
    expect(all.matches.some((m) => m.includes("/.git/"))).toBe(false);
    expect(all.matches.slice(-2)).toEqual(["/home/user/p/src/deep/b.py", "/home/user/p/src/c.md"]);
  });

  it("defaults to the home, takes the pattern relative to path", async () => {
    expect((await lumina.glob("p/src/*.md")).matches).toEqual(["/home/user/p/src/c.md"]);
    expect((await lumina.glob("*.py", { path: "/home/user/p/src/deep" })).matches).toEqual([
      "/home/user/p/src/deep/b.py",
    ]);
  });

  it("returns at most 1000, saying it truncated", async () => {
    await lumina.bash(
      "mkdir -p /home/user/many && cd /home/user/many && for i in $(seq 1 1100); do : > f$i.txt; done",
    );
    const result = await lumina.glob("*.txt", { path: "/home/user/many" });
    expect(result).toMatchObject({ count: 1000, truncated: true });
    expect(result.matches).toHaveLength(1000);
  });

  it("refuses a relative or missing path and a file as path", async () => {
    await expectToolError(lumina.glob("*", { path: "p" }), 400, "invalid_path");
    await expectToolError(lumina.glob("*", { path: "/home/user/nope" }), 404, "not_found");
    await expectToolError(
      lumina.glob("*", { path: "/home/user/p/src/a.ts" }),
      400,
      "invalid_request",
    );
  });
});

describe("grep", () => {
  it("lists files with matches by default: hidden searched, .git skipped, .gitignore honoured", async () => {
    const result = await lumina.grep("TODO", { path: "/home/user/p" });
    expect(result).toEqual({
      mode: "files_with_matches",
      files: ["/home/user/p/.hidden/h.ts", "/home/user/p/src/a.ts"],
      count: 2,
    });
  });

  it("content mode: one entry per matching line, line numbers only when asked", async () => {
    const plain = await lumina.grep("TODO", { path: "/home/user/p/src", outputMode: "content" });
    expect(plain).toEqual({
      mode: "content",
      matches: [
        {
          file: "/home/user/p/src/a.ts",
          lineNumber: null,
          line: "TODO three",
          beforeContext: [],
          afterContext: [],
        },
        {
          file: "/home/user/p/src/a.ts",
          lineNumber: null,
          line: "TODO five",
          beforeContext: [],
          afterContext: [],
        },
      ],
      totalMatches: 2,
    });
    const numbered = await lumina.grep("TODO", {
      path: "/home/user/p/src/a.ts",
      outputMode: "content",
      lineNumbers: true,
    });
    expect(numbered.matches.map((m) => m.lineNumber)).toEqual([3, 5]);
  });

  it("repeats overlapping context per match; context sets both sides, before/after override", async () => {
    const both = await lumina.grep("TODO", {
      path: "/home/user/p/src/a.ts",
      outputMode: "content",
      context: 2,
    });
    expect(both.matches.map((m) => [m.beforeContext, m.afterContext])).toEqual([
      [
        ["one", "two"],
        ["four", "TODO five"],
      ],
      [
        ["TODO three", "four"],
        ["six", "seven"],
      ],
    ]);
    const mixed = await lumina.grep("TODO", {
      path: "/home/user/p/src/a.ts",
      outputMode: "content",
      context: 2,
      after: 1,
    });
    expect(mixed.matches.map((m) => [m.beforeContext, m.afterContext])).toEqual([
      [["one", "two"], ["four"]],
      [["TODO three", "four"], ["six"]],
    ]);
    const beforeOnly = await lumina.grep("TODO five", {
      path: "/home/user/p/src/a.ts",
      outputMode: "content",
      before: 1,
    });
    expect(beforeOnly.matches[0]).toMatchObject({ beforeContext: ["four"], afterContext: [] });
  });

  it("count mode counts matching lines per file", async () => {
    const result = await lumina.grep("TODO|todo", { path: "/home/user/p", outputMode: "count" });
    expect(result).toEqual({
      mode: "count",
      counts: [
        { file: "/home/user/p/.hidden/h.ts", count: 1 },
        { file: "/home/user/p/src/a.ts", count: 2 },
        { file: "/home/user/p/src/deep/b.py", count: 1 },
      ],
      total: 4,
    });
  });

  it("filters by file_type and glob, and matches case-insensitively", async () => {
    expect(
      (await lumina.grep("todo", { path: "/home/user/p", caseInsensitive: true, fileType: "py" }))
        .files,
    ).toEqual(["/home/user/p/src/deep/b.py"]);
    expect((await lumina.grep("TODO", { path: "/home/user/p", glob: "src/*.ts" })).files).toEqual([
      "/home/user/p/src/a.ts",
    ]);
    expect((await lumina.grep("todo", { path: "/home/user/p" })).files).toEqual([
      "/home/user/p/src/deep/b.py",
    ]);
  });

  it("multiline: a match spanning lines holds them joined by \\n", async () => {
    const result = await lumina.grep("class \\w+:.*\\n\\s+def __init__", {
      path: "/home/user/p",
      outputMode: "content",
      multiline: true,
      lineNumbers: true,
      fileType: "py",
    });
    expect(result.matches).toEqual([
      {
        file: "/home/user/p/src/deep/b.py",
        lineNumber: 2,
        line: "class A:\n    def __init__(self):",
        beforeContext: [],
        afterContext: [],
      },
    ]);
    expect(result.totalMatches).toBe(1);
  });

  it("answers an empty result for no match, and 400 with rg's message for a bad regex or type", async () => {
    expect(await lumina.grep("zzz-nothing", { path: "/home/user/p" })).toEqual({
      mode: "files_with_matches",
      files: [],
      count: 0,
    });
    const regex = await expectToolError(
      lumina.grep("(unclosed", { path: "/home/user/p" }),
      400,
      "invalid_request",
    );
    expect(regex).toMatch(/regex parse error/);
    const type = await expectToolError(
      lumina.grep("x", { fileType: "nosuchtype" }),
      400,
      "invalid_request",
    );
    expect(type).toMatch(/unrecognized file type/);
    await expectToolError(lumina.grep("x", { path: "p" }), 400, "invalid_path");
    await expectToolError(lumina.grep("x", { path: "/home/user/none" }), 404, "not_found");
  });

  it("never lets a pattern or glob become an rg option", async () => {
    await lumina.write("/home/user/p/opt.txt", "--pre=sh\n-e\n");
    expect((await lumina.grep("--pre=sh", { path: "/home/user/p" })).files).toEqual([
      "/home/user/p/opt.txt",
    ]);
    expect(
      (await lumina.grep("-e", { path: "/home/user/p/opt.txt", outputMode: "count" })).total,
    ).toBe(1);
    const viaGlob = await lumina.grep("x", { path: "/home/user/p", glob: "--pre=sh" });
    expect(viaGlob.files).toEqual([]);
  });

  it("has no PCRE2 engine: lookaround is a regex error", async () => {
    await expectToolError(lumina.grep("a(?=b)", { path: "/home/user/p" }), 400, "invalid_request");
  });
});
