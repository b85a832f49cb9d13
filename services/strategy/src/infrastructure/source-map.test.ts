import { describe, expect, it } from "vitest";
import { createSourceMapReader } from "./source-map";

describe("createSourceMapReader", () => {
  // Hand-decoded: line 1 "AAAA" → (col 0 → src 0, line 0, col 0), "IAAI" → (col 4 → line 0, col 4);
  // line 2 "AACA" → (col 0 → line 1, col 4); line 3 "EAAE" → (col 2 → line 1, col 6), "ECCA" → src 1.
  const map = JSON.stringify({
    version: 3,
    sources: ["strategy:a.ts", "strategy:lib/b.ts"],
    mappings: "AAAA,IAAI;AACA;EAAE,ECCA",
  });
  const reader = createSourceMapReader(map, (source) => source.replace(/^strategy:/, ""));

  it("maps generated positions to 1-based original file, line and column", () => {
    expect(reader.originalPosition(1, 1)).toEqual({ source: "a.ts", line: 1, column: 1 });
    expect(reader.originalPosition(1, 7)).toEqual({ source: "a.ts", line: 1, column: 5 });
    expect(reader.originalPosition(2, 3)).toEqual({ source: "a.ts", line: 2, column: 5 });
    expect(reader.originalPosition(3, 3)).toEqual({ source: "a.ts", line: 2, column: 7 });
    expect(reader.originalPosition(3, 6)).toEqual({ source: "lib/b.ts", line: 3, column: 7 });
  });

  it("answers undefined outside the map and survives a broken map", () => {
    expect(reader.originalPosition(9, 1)).toBeUndefined();
    expect(createSourceMapReader("not json").originalPosition(1, 1)).toBeUndefined();
  });
});
