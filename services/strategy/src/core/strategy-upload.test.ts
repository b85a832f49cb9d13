import { describe, expect, it } from "vitest";
import { checkUpload } from "./strategy-upload";

describe("checkUpload", () => {
  it("keys local files by path beside the strategy file", () => {
    expect(
      checkUpload("sample.ts", "main", [
        { path: "lib/series.ts", source: "lib" },
        { path: "helpers.ts", source: "helpers" },
      ]),
    ).toEqual({
      ok: true,
      files: { "lib/series.ts": "lib", "helpers.ts": "helpers", "sample.ts": "main" },
    });
    // Relative to the strategy's directory when the entry is not at the root.
    expect(checkUpload("nested/sample.ts", "main", [{ path: "lib/x.ts", source: "x" }])).toEqual({
      ok: true,
      files: { "nested/lib/x.ts": "x", "nested/sample.ts": "main" },
    });
  });

  it("names every bad path at once with expected and found", () => {
    const result = checkUpload("sample.ts", "main", [
      { path: "/etc/passwd.ts", source: "" },
      { path: "../outside.ts", source: "" },
      { path: "lib/../../up.ts", source: "" },
      { path: "C:/win.ts", source: "" },
      { path: "lib\\win.ts", source: "" },
      { path: "./lib/x.ts", source: "" },
      { path: "lib//x.ts", source: "" },
      { path: "lib/x.js", source: "" },
      { path: "types.d.ts", source: "" },
      { path: "lib/a b.ts", source: "" },
      { path: "", source: "" },
      { path: "sample.ts", source: "" },
      { path: "lib/ok.ts", source: "" },
      { path: "lib/ok.ts", source: "" },
    ]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((issue) => [issue.field, issue.found])).toEqual([
      ["files[0].path", '"/etc/passwd.ts"'],
      ["files[1].path", '"../outside.ts"'],
      ["files[2].path", '"lib/../../up.ts"'],
      ["files[3].path", '"C:/win.ts"'],
      ["files[4].path", '"lib\\\\win.ts"'],
      ["files[5].path", '"./lib/x.ts"'],
      ["files[6].path", '"lib//x.ts"'],
      ["files[7].path", '"lib/x.js"'],
      ["files[8].path", '"types.d.ts"'],
      ["files[9].path", '"lib/a b.ts"'],
      ["files[10].path", '""'],
      ["files[11].path", '"sample.ts"'],
      ["files[13].path", '"lib/ok.ts" again'],
    ]);
    expect(result.issues[0]?.message).toBe(
      'files[0].path: expected a relative path such as "lib/series.ts", not an absolute path, got "/etc/passwd.ts"',
    );
    expect(result.issues[1]?.message).toBe(
      `files[1].path: expected a path inside the strategy's directory (no ".." segments), such as "lib/series.ts", got "../outside.ts"`,
    );
    expect(result.issues[7]?.expected).toBe('a TypeScript file ending in ".ts"');
  });

  it("bounds file count, file size and total size", () => {
    const limits = { maxFiles: 2, maxFileBytes: 10, maxTotalBytes: 25 };
    const result = checkUpload(
      "sample.ts",
      "0123456789AB",
      [
        { path: "a.ts", source: "0123456789" },
        { path: "b.ts", source: "é".repeat(6) },
        { path: "c.ts", source: "" },
      ],
      limits,
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((issue) => [issue.field, issue.expected, issue.found])).toEqual([
      ["source", "at most 10 bytes", "12 bytes"],
      ["files", "at most 2 files", "3 files"],
      ["files[1].source", "at most 10 bytes", "12 bytes"],
      ["files", "at most 25 bytes in all (strategy and files)", "34 bytes"],
    ]);
  });
});
