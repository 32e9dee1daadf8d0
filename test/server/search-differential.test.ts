/**
 * Differential: on a copy of a real source tree (the installed `hono` package) in a sandbox's
 * home, grep answers what `rg` run directly on the host copy answers, and glob what a reference
 * glob (tinyglobby with the contract's options) answers.
 */
import { execFileSync } from "node:child_process";
import { cp, stat } from "node:fs/promises";
import { join } from "node:path";
import { glob } from "tinyglobby";
import { describe, expect, it } from "vitest";
import type { LuminaClient } from "../../src/index.ts";
import { useTestServer } from "../support/use-server.ts";
import { hostHomeOf, newSandboxClient } from "./sandbox-helpers.ts";

let lumina: LuminaClient;
let hostTree: string;
const tree = "/home/user/hono";

const server = useTestServer(
  {},
  async () => {
    lumina = await newSandboxClient(server());
    const home = await hostHomeOf(server(), lumina);
    hostTree = join(home, "hono");
    await cp(join(process.cwd(), "node_modules/hono"), hostTree, { recursive: true });
    const owner = await stat(home);
    execFileSync("chown", ["-R", `${owner.uid}:${owner.gid}`, hostTree]);
  },
  120_000,
);

/** rg run directly on the host copy, from inside it like the tool does; paths made absolute in the sandbox. */
function hostRg(args: string[]): string[] {
  let out = "";
  try {
    out = execFileSync(
      "rg",
      ["--no-config", "--hidden", "--no-messages", "--glob=!.git", ...args, "--", "./"],
      {
        cwd: hostTree,
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
      },
    );
  } catch (error) {
    if ((error as { status?: number }).status !== 1) throw error;
  }
  return out.split("\n").filter(Boolean);
}

const toSandbox = (relative: string) => join(tree, relative);

describe("grep against rg on the host", () => {
  const cases: { pattern: string; extra: string[]; options: Record<string, unknown> }[] = [
    { pattern: "export", extra: [], options: {} },
    { pattern: "hono", extra: ["--ignore-case"], options: { caseInsensitive: true } },
    { pattern: "import .* from", extra: ["--type=js"], options: { fileType: "js" } },
    { pattern: "Context", extra: ["--glob=*.d.ts"], options: { glob: "*.d.ts" } },
    { pattern: "\\bclass\\s+\\w+", extra: [], options: {} },
  ];

  for (const { pattern, extra, options } of cases) {
    it(`files_with_matches and count agree for /${pattern}/ ${extra.join(" ")}`, async () => {
      const files = await lumina.grep(pattern, { path: tree, ...options });
      const expected = hostRg(["--files-with-matches", ...extra, `--regexp=${pattern}`]).map(
        toSandbox,
      );
      expect(expected.length).toBeGreaterThan(0);
      expect(files.files).toEqual([...expected].sort());
      expect(files.count).toBe(expected.length);

      const counts = await lumina.grep(pattern, { path: tree, outputMode: "count", ...options });
      const expectedCounts = hostRg([
        "--count",
        "--with-filename",
        ...extra,
        `--regexp=${pattern}`,
      ]).map((line) => {
        const at = line.lastIndexOf(":");
        return { file: toSandbox(line.slice(0, at)), count: Number(line.slice(at + 1)) };
      });
      expect(new Set(counts.counts.map((c) => `${c.file}=${c.count}`))).toEqual(
        new Set(expectedCounts.map((c) => `${c.file}=${c.count}`)),
      );
    });
  }

  it("content lines and line numbers agree", async () => {
    const result = await lumina.grep("new Hono\\(", {
      path: tree,
      outputMode: "content",
      lineNumbers: true,
    });
    const expected = hostRg([
      "--line-number",
      "--with-filename",
      "--null",
      "--regexp=new Hono\\(",
    ]).map((line) => {
      const [file, rest] = line.split("\0") as [string, string];
      const at = rest.indexOf(":");
      return `${toSandbox(file)}:${rest.slice(0, at)}:${rest.slice(at + 1)}`;
    });
    expect(expected.length).toBeGreaterThan(0);
    expect(result.totalMatches).toBe(expected.length);
    expect(new Set(result.matches.map((m) => `${m.file}:${m.lineNumber}:${m.line}`))).toEqual(
      new Set(expected),
    );
  });
});

describe("glob against a reference glob on the host", () => {
  for (const pattern of [
    "**/*.js",
    "**/*.d.ts",
    "dist/cjs/**/index.*",
    "*.json",
    "**/{helper,utils}/*",
  ]) {
    it(`matches the same files, newest first, for ${pattern}`, async () => {
      const result = await lumina.glob(pattern, { path: tree });
      const reference = await glob(pattern, {
        cwd: hostTree,
        dot: true,
        onlyFiles: true,
        followSymbolicLinks: false,
        expandDirectories: false,
        ignore: ["**/.git/**"],
      });
      expect(reference.length).toBeGreaterThan(0);
      expect(result.truncated).toBe(reference.length > 1000);
      const expected = reference.map(toSandbox);
      if (reference.length <= 1000) expect(new Set(result.matches)).toEqual(new Set(expected));
      else for (const match of result.matches) expect(expected).toContain(match);
      const mtimes = await Promise.all(
        result.matches.map(
          async (m) => (await stat(join(hostTree, m.slice(tree.length + 1)))).mtimeMs,
        ),
      );
      for (let i = 1; i < mtimes.length; i++)
        expect(mtimes[i]!).toBeLessThanOrEqual(mtimes[i - 1]!);
    });
  }
});
