/**
 * Uploaded strategies (RegisterStrategy / ValidateStrategy): the strategy file plus the local files
 * it imports ("./lib/series"), checked before anything is compiled: paths stay inside the
 * strategy's directory, and sizes are bounded. Every problem is reported at once, each naming its
 * field (`files[2].path`, `source`, `files`).
 */
import type { ValidationIssue } from "./validation-issue";

/** A local file uploaded with a strategy; `path` is relative to the strategy file's directory. */
export interface UploadedFile {
  readonly path: string;
  readonly source: string;
}

export interface UploadLimits {
  /** Most local files per upload; default 64. */
  readonly maxFiles: number;
  /** Largest single file (the strategy or a local file), UTF-8 bytes; default 512 KiB. */
  readonly maxFileBytes: number;
  /** Largest upload (strategy + local files), UTF-8 bytes; default 2 MiB. */
  readonly maxTotalBytes: number;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = {
  maxFiles: 64,
  maxFileBytes: 512 * 1024,
  maxTotalBytes: 2 * 1024 * 1024,
};

const SEGMENT = /^[A-Za-z0-9_.-]+$/;
const PATH_EXAMPLE = 'a relative path such as "lib/series.ts"';

function issue(field: string, expected: string, found: string): ValidationIssue {
  return { field, message: `${field}: expected ${expected}, got ${found}`, expected, found };
}

/** Why `path` is not an acceptable local file path, or undefined when it is. */
function pathProblem(path: string): string | undefined {
  if (path === "") return PATH_EXAMPLE;
  if (path.includes("\\")) return `${PATH_EXAMPLE} with "/" separators`;
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path)) return `${PATH_EXAMPLE}, not an absolute path`;
  const segments = path.split("/");
  if (segments.includes(".."))
    return `a path inside the strategy's directory (no ".." segments), such as "lib/series.ts"`;
  if (segments.some((segment) => segment === "" || segment === "."))
    return `a normalized path (no empty or "." segments), such as "lib/series.ts"`;
  if (!segments.every((segment) => SEGMENT.test(segment)))
    return `path segments of letters, digits, "_", "." and "-", such as "lib/series.ts"`;
  if (!path.endsWith(".ts") || path.endsWith(".d.ts")) return 'a TypeScript file ending in ".ts"';
  return undefined;
}

const byteLength = (text: string) => Buffer.byteLength(text, "utf8");
function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  return bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/**
 * Checks an upload and returns the files keyed by path (the entry included), as the compiler
 * takes them; or every problem found.
 */
export function checkUpload(
  entry: string,
  source: string,
  files: readonly UploadedFile[],
  limits: UploadLimits = DEFAULT_UPLOAD_LIMITS,
): { ok: true; files: Record<string, string> } | { ok: false; issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const sourceBytes = byteLength(source);
  if (sourceBytes > limits.maxFileBytes)
    issues.push(issue("source", `at most ${size(limits.maxFileBytes)}`, size(sourceBytes)));
  if (files.length > limits.maxFiles)
    issues.push(issue("files", `at most ${limits.maxFiles} files`, `${files.length} files`));
  const entryDirectory = entry.includes("/") ? entry.slice(0, entry.lastIndexOf("/") + 1) : "";
  const result: Record<string, string> = {};
  let totalBytes = sourceBytes;
  files.forEach((file, index) => {
    const field = `files[${index}]`;
    const problem = pathProblem(file.path);
    const path = `${entryDirectory}${file.path}`;
    if (problem !== undefined) issues.push(issue(`${field}.path`, problem, JSON.stringify(file.path)));
    else if (path === entry)
      issues.push(
        issue(
          `${field}.path`,
          "a file other than the strategy itself (send that as source)",
          JSON.stringify(file.path),
        ),
      );
    else if (Object.hasOwn(result, path))
      issues.push(issue(`${field}.path`, "each path once", `${JSON.stringify(file.path)} again`));
    const bytes = byteLength(file.source);
    totalBytes += bytes;
    if (bytes > limits.maxFileBytes)
      issues.push(issue(`${field}.source`, `at most ${size(limits.maxFileBytes)}`, size(bytes)));
    if (problem === undefined) result[path] = file.source;
  });
  if (totalBytes > limits.maxTotalBytes)
    issues.push(
      issue("files", `at most ${size(limits.maxTotalBytes)} in all (strategy and files)`, size(totalBytes)),
    );
  if (issues.length > 0) return { ok: false, issues };
  result[entry] = source;
  return { ok: true, files: result };
}
