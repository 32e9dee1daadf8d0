import { afterEach, describe, expect, it, vi } from "vitest";

const uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const base = { baseUrl: "http://lumina.test", token: "t", sandbox: "s" };

afterEach(() => {
  vi.unstubAllGlobals();
  vi.resetModules();
});

describe("runtimes with gaps", () => {
  it("imports and disposes where Symbol.asyncDispose is missing", async () => {
    // A Symbol without the well-known asyncDispose, as in Safari before 18.
    const RealSymbol = Symbol;
    const bareSymbol = (description?: string) => RealSymbol(description);
    for (const key of Reflect.ownKeys(RealSymbol)) {
      if (key === "asyncDispose" || key === "length" || key === "name") continue;
      Object.defineProperty(bareSymbol, key, Object.getOwnPropertyDescriptor(RealSymbol, key)!);
    }
    vi.stubGlobal("Symbol", bareSymbol);
    const { createClient } = await import("../../src/index.ts");
    const client = createClient(base);
    const dispose = (client as unknown as Record<symbol, () => Promise<void>>)[
      Symbol.for("Symbol.asyncDispose")
    ];
    expect(typeof dispose).toBe("function");
    await dispose!();
    await expect(client.getSandbox()).rejects.toThrow("closed");
  });

  it("falls back to getRandomValues without crypto.randomUUID (plain-http pages)", async () => {
    const realCrypto = globalThis.crypto;
    const getRandomValues = vi.fn((bytes: Uint8Array<ArrayBuffer>) =>
      realCrypto.getRandomValues(bytes),
    );
    vi.stubGlobal("crypto", { getRandomValues });
    const { createClient } = await import("../../src/index.ts");
    const ids = new Set(Array.from({ length: 50 }, () => createClient(base).toolSessionId));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(uuidV4);
    expect(getRandomValues).toHaveBeenCalled();
  });

  it("falls back to Math.random without any crypto", async () => {
    vi.stubGlobal("crypto", undefined);
    const { createClient } = await import("../../src/index.ts");
    expect(createClient(base).toolSessionId).toMatch(uuidV4);
  });
});
