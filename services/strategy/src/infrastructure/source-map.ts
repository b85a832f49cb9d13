/**
 * A minimal source map (v3) reader: maps a generated line/column of the compiled strategy script
 * back to the TypeScript file and line, so runtime errors name the strategy's own source.
 */
const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

export interface OriginalPosition {
  readonly source: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

interface Segment {
  generatedColumn: number;
  source: number;
  line: number;
  column: number;
}

function decodeVlq(text: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of text) {
    const digit = BASE64.indexOf(char);
    if (digit < 0) continue;
    value += (digit & 31) << shift;
    if ((digit & 32) !== 0) {
      shift += 5;
      continue;
    }
    values.push(value & 1 ? -(value >>> 1) : value >>> 1);
    value = 0;
    shift = 0;
  }
  return values;
}

export interface SourceMapReader {
  /** `line` and `column` 1-based in the generated script; undefined when unmapped. */
  originalPosition(line: number, column: number): OriginalPosition | undefined;
}

export function createSourceMapReader(
  sourceMapJson: string,
  renameSource: (source: string) => string = (source) => source,
): SourceMapReader {
  let parsed: { sources?: string[]; mappings?: string };
  try {
    parsed = JSON.parse(sourceMapJson) as typeof parsed;
  } catch {
    parsed = {};
  }
  const sources = (parsed.sources ?? []).map(renameSource);
  const lines: Segment[][] = [];
  let source = 0;
  let originalLine = 0;
  let originalColumn = 0;
  for (const lineText of (parsed.mappings ?? "").split(";")) {
    const segments: Segment[] = [];
    let generatedColumn = 0;
    for (const segmentText of lineText.split(",")) {
      if (segmentText === "") continue;
      const values = decodeVlq(segmentText);
      generatedColumn += values[0] ?? 0;
      if (values.length >= 4) {
        source += values[1] ?? 0;
        originalLine += values[2] ?? 0;
        originalColumn += values[3] ?? 0;
        segments.push({ generatedColumn, source, line: originalLine, column: originalColumn });
      }
    }
    lines.push(segments);
  }
  return {
    originalPosition(line, column) {
      const segments = lines[line - 1];
      if (segments === undefined || segments.length === 0) return undefined;
      let best: Segment | undefined;
      for (const segment of segments) {
        if (segment.generatedColumn <= column - 1) best = segment;
        else break;
      }
      best ??= segments[0] as Segment;
      const name = sources[best.source];
      if (name === undefined) return undefined;
      return { source: name, line: best.line + 1, column: best.column + 1 };
    },
  };
}
