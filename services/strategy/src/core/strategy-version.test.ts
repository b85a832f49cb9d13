import { describe, expect, it } from "vitest";
import { strategyVersion } from "./strategy-version";

describe("strategyVersion", () => {
  // Expected hashes from coreutils: printf 'x\0lib/b.ts\0y' | sha256sum
  it("hashes the entry source, then each local import with its path", () => {
    expect(strategyVersion("a.ts", { "a.ts": "x" })).toBe(
      "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",
    );
    expect(strategyVersion("a.ts", { "lib/b.ts": "y", "a.ts": "x" })).toBe(
      "f4561d1c2e2394d9649abd81893bacf3526c912a6f4007ce313e5c97d6395328",
    );
  });

  it("does not depend on the entry's file name", () => {
    expect(strategyVersion("renamed.ts", { "renamed.ts": "x" })).toBe(
      strategyVersion("a.ts", { "a.ts": "x" }),
    );
  });
});
