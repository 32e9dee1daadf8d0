/**
 * The server's layers point one way: every relative import in server/ goes to its own folder or
 * to a layer below. The in-sandbox agent (server/agent/) imports only itself and server/shared/:
 * it runs inside the sandbox, so host code must never be bundled into it, nor it into the host.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const serverRoot = join(repoRoot, "server");

/**
 * The host's layers, top to bottom. A unit is a folder of server/ (`http/`), a file directly in
 * server/ (`index.ts`), or `../src/protocol/` (the SDK's wire types, which the OpenAPI document
 * is built from). A unit may import its own files and units of any layer below its own.
 */
const layers: string[][] = [
  ["main.ts"],
  ["index.ts", "admin-commands.ts", "lifecycle-options.ts"],
  ["options.ts"],
  ["http/"],
  ["auth/"],
  ["sandboxes/", "previews/"],
  ["tools/"],
  ["sessions/"],
  ["sandbox/"],
  ["store/"],
  // Policies and namespace rules: pure data and host tools, imported by the layers above.
  ["network/"],
  ["shared/", "errors.ts", "../src/protocol/"],
];

/** What the agent may import besides itself: it runs inside the sandbox. */
const agentMayImport = ["shared/"];

/**
 * Edges against the order that remain, as "from -> to" (paths relative to server/) with a
 * one-line reason each; a new edge still fails the test. None remain.
 */
const allowed: Record<string, string> = {};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** A path relative to server/, with `/` separators (`http/app.ts`, `../src/protocol/bash.ts`). */
function fromServer(path: string): string {
  return relative(serverRoot, path).split(sep).join("/");
}

/** The unit a server-relative path belongs to (see `layers`). */
function unitOf(path: string): string {
  if (path.startsWith("../src/protocol/")) return "../src/protocol/";
  const slash = path.indexOf("/");
  return slash === -1 ? path : path.slice(0, slash + 1);
}

function layerOf(unit: string): number {
  return layers.findIndex((layer) => layer.includes(unit));
}

/** Every relative import (static, re-export, dynamic, type-only) of every server file. */
function importEdges(): { from: string; to: string }[] {
  const specifier = /(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)["'](\.{1,2}\/[^"']+)["']/gm;
  return sourceFiles(serverRoot).flatMap((file) =>
    [...readFileSync(file, "utf8").matchAll(specifier)].map((match) => ({
      from: fromServer(file),
      to: fromServer(join(dirname(file), match[1] ?? "")),
    })),
  );
}

/** Whether an import from one unit to another keeps to the order. */
function keepsOrder(fromUnit: string, toUnit: string): boolean {
  if (fromUnit === toUnit) return true;
  if (fromUnit === "agent/") return agentMayImport.includes(toUnit);
  const from = layerOf(fromUnit);
  const to = layerOf(toUnit);
  return from !== -1 && to !== -1 && to > from;
}

describe("server layers", () => {
  const edges = importEdges();
  const against = edges
    .filter(({ from, to }) => !keepsOrder(unitOf(from), unitOf(to)))
    .map(({ from, to }) => `${from} -> ${to}`);

  it("finds the imports it checks", () => {
    // A broken pattern would find nothing and pass everything.
    expect(edges.length).toBeGreaterThan(100);
    expect(edges).toContainEqual({ from: "main.ts", to: "index.ts" });
  });

  it("places every server folder and top-level file in a layer", () => {
    const units = new Set(sourceFiles(serverRoot).map((file) => unitOf(fromServer(file))));
    const unplaced = [...units].filter((unit) => unit !== "agent/" && layerOf(unit) === -1);
    expect(unplaced).toEqual([]);
  });

  it("has no import against the layer order beyond the allowed ones", () => {
    expect(against.filter((edge) => !(edge in allowed))).toEqual([]);
  });

  it("allows only edges that still exist", () => {
    expect(Object.keys(allowed).filter((edge) => !against.includes(edge))).toEqual([]);
  });
});
