/** The CLI flags of idle stop, the warm pool and the resource maxima, parsed and refused. */
import { describe, expect, it } from "vitest";
import { lifecycleOptions } from "../../server/lifecycle-options.ts";

describe("lifecycle flags", () => {
  it("turns the flags into server options", () => {
    expect(
      lifecycleOptions({
        "idle-timeout": "0",
        "warm-pool": "4",
        "max-cpus": "1.5",
        "max-memory-mb": "4096",
      }),
    ).toEqual({ idleTimeoutMs: 0, warmPool: 4, maxResources: { cpus: 1.5, memoryMb: 4096 } });
    expect(lifecycleOptions({})).toEqual({});
  });

  it("refuses an idle timeout below 1000 ms, and values that are not numbers", () => {
    expect(() => lifecycleOptions({ "idle-timeout": "999" })).toThrow(/--idle-timeout/);
    expect(() => lifecycleOptions({ "warm-pool": "-1" })).toThrow(/--warm-pool/);
    expect(() => lifecycleOptions({ "max-cpus": "many" })).toThrow(/--max-cpus/);
    expect(() => lifecycleOptions({ "max-disk-mb": "1.5" })).toThrow(/--max-disk-mb/);
  });
});
