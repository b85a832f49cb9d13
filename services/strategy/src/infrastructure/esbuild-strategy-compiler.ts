/**
 * Compiles a strategy file and its local imports into one script with esbuild. Only two kinds of
 * import are allowed: "@tradai/engine" (left external: the sandbox supplies its own engine copy)
 * and local files ("./lib/x"), resolved against the given files, never against the disk, so a
 * strategy from S3 or an upload compiles exactly like one from the strategies directory.
 */
import path from "node:path";
import { build, stop, type BuildFailure, type Message, type Plugin } from "esbuild";
import type { StrategySourceFiles } from "../core/strategy-source";
import type { CompileResult, StrategyCompiler } from "../core/strategy-sandbox";
import { strategyVersion } from "../core/strategy-version";
import type { ValidationIssue } from "../core/validation-issue";

const NAMESPACE = "strategy";
/** The global the compiled script assigns the module's exports to. */
export const STRATEGY_GLOBAL = "__tradaiStrategy";
export const ENGINE_MODULE = "@tradai/engine";

function resolveLocal(files: Readonly<Record<string, string>>, importer: string, specifier: string) {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(importer), specifier));
  const candidates = [base, `${base}.ts`, `${base}/index.ts`];
  if (base.endsWith(".js")) candidates.push(`${base.slice(0, -3)}.ts`);
  return { found: candidates.find((candidate) => Object.hasOwn(files, candidate)), candidates };
}

function virtualFiles(files: Readonly<Record<string, string>>): Plugin {
  return {
    name: "tradai-strategy-files",
    setup(builder) {
      builder.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === "entry-point") return { path: args.path, namespace: NAMESPACE };
        if (args.path === ENGINE_MODULE) return { path: ENGINE_MODULE, external: true };
        if (args.path.startsWith("./") || args.path.startsWith("../")) {
          const { found, candidates } = resolveLocal(files, args.importer, args.path);
          if (found !== undefined && !found.startsWith("../")) return { path: found, namespace: NAMESPACE };
          return {
            errors: [
              {
                text: `cannot resolve local import "${args.path}": expected one of ${candidates.join(", ")} beside the strategy`,
              },
            ],
          };
        }
        return {
          errors: [
            {
              text: `import "${args.path}": expected "${ENGINE_MODULE}" or a local file ("./..."), got a package import (strategies are pure: no Node built-ins or other packages)`,
            },
          ],
        };
      });
      builder.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => ({
        contents: files[args.path] ?? "",
        loader: "ts",
      }));
    },
  };
}

function stripNamespace(file: string): string {
  return file.startsWith(`${NAMESPACE}:`) ? file.slice(NAMESPACE.length + 1) : file;
}

function messageToIssue(message: Message, entry: string): ValidationIssue {
  const location = message.location;
  return {
    field: "source",
    message: message.text,
    file: location === null ? entry : stripNamespace(location.file),
    ...(location === null ? {} : { line: location.line, column: location.column + 1 }),
  };
}

/**
 * Deepest bracket nesting ("(", "[", "{") a file reaches, and the line where: esbuild's parser is
 * recursive, and a file of ~250 000 nested brackets (well under the upload limit) overflows its
 * stack, which kills the shared esbuild service for every later compile. String and template
 * literals and comments are skipped; regular-expression literals are not recognised, so a bracket
 * in one counts (it can only make the depth look larger, and real code stays far below the limit).
 */
export function maxBracketDepth(source: string): { depth: number; line: number } {
  let depth = 0;
  let max = 0;
  let maxLine = 1;
  let line = 1;
  // Depths at which a template literal's `${` was opened: its closing "}" resumes the template.
  const templates: number[] = [];
  let index = 0;
  const length = source.length;
  /** Skips a template literal's text from `index` up to its end or a `${`; true if at a `${`. */
  const skipTemplateText = (): boolean => {
    while (index < length) {
      const char = source[index];
      if (char === "\\") index += 2;
      else if (char === "`") {
        index += 1;
        return false;
      } else if (char === "$" && source[index + 1] === "{") {
        index += 2;
        return true;
      } else {
        if (char === "\n") line += 1;
        index += 1;
      }
    }
    return false;
  };
  while (index < length) {
    const char = source[index] as string;
    if (char === "\n") {
      line += 1;
      index += 1;
    } else if (char === "/" && source[index + 1] === "/") {
      while (index < length && source[index] !== "\n") index += 1;
    } else if (char === "/" && source[index + 1] === "*") {
      const end = source.indexOf("*/", index + 2);
      const commentEnd = end === -1 ? length : end + 2;
      for (let position = index; position < commentEnd; position++) if (source[position] === "\n") line += 1;
      index = commentEnd;
    } else if (char === '"' || char === "'") {
      index += 1;
      while (index < length && source[index] !== char && source[index] !== "\n")
        index += source[index] === "\\" ? 2 : 1;
      index += 1;
    } else if (char === "`") {
      index += 1;
      if (skipTemplateText()) {
        templates.push(depth);
        depth += 1;
      }
    } else if (char === "(" || char === "[" || char === "{") {
      depth += 1;
      index += 1;
    } else if (char === ")" || char === "]" || char === "}") {
      depth = Math.max(0, depth - 1);
      index += 1;
      if (char === "}" && templates.length > 0 && templates[templates.length - 1] === depth) {
        templates.pop();
        if (skipTemplateText()) {
          templates.push(depth);
          depth += 1;
        }
      }
    } else {
      index += 1;
    }
    if (depth > max) {
      max = depth;
      maxLine = line;
    }
  }
  return { depth: max, line: maxLine };
}

/** Deepest bracket nesting a strategy file may have (real strategies stay in the tens). */
export const MAX_BRACKET_DEPTH = 1_000;

function nestingIssues(files: Readonly<Record<string, string>>): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const [file, text] of Object.entries(files)) {
    const { depth, line } = maxBracketDepth(text);
    if (depth > MAX_BRACKET_DEPTH) {
      issues.push({
        field: "source",
        message: `${file}:${line}: brackets nested ${depth} deep, expected at most ${MAX_BRACKET_DEPTH} (such deep nesting would crash the compiler)`,
        expected: `bracket nesting depth <= ${MAX_BRACKET_DEPTH}`,
        found: `depth ${depth}`,
        file,
        line,
      });
    }
  }
  return issues;
}

/** esbuild's long-lived service died (a crash): its errors say so, and no build works until reset. */
function isServiceStopped(error: unknown): boolean {
  return error instanceof Error && /The service (was stopped|is no longer running)/.test(error.message);
}

function isBuildFailure(error: unknown): error is BuildFailure {
  return error instanceof Error && Array.isArray((error as Partial<BuildFailure>).errors);
}

export function createEsbuildStrategyCompiler(): StrategyCompiler {
  return {
    async compile(input: StrategySourceFiles): Promise<CompileResult> {
      if (!Object.hasOwn(input.files, input.entry)) {
        return {
          ok: false,
          issues: [{ field: "file_name", message: `no source for ${input.entry}`, file: input.entry }],
        };
      }
      const tooDeep = nestingIssues(input.files);
      if (tooDeep.length > 0) return { ok: false, issues: tooDeep };
      try {
        const result = await build({
          entryPoints: [input.entry],
          bundle: true,
          write: false,
          outfile: "strategy-bundle.js",
          format: "iife",
          globalName: STRATEGY_GLOBAL,
          platform: "neutral",
          target: "es2022",
          // import(x) becomes require(x), which the sandbox answers with its own error: a real
          // import() would reject with an error of the worker's realm (issue #5's audit).
          supported: { "dynamic-import": false },
          sourcemap: "external",
          sourcesContent: false,
          metafile: true,
          logLevel: "silent",
          plugins: [virtualFiles(input.files)],
        });
        const code = result.outputFiles.find((file) => file.path.endsWith(".js"))?.text ?? "";
        const sourceMap = result.outputFiles.find((file) => file.path.endsWith(".map"))?.text ?? "{}";
        const sources: Record<string, string> = {};
        for (const key of Object.keys(result.metafile.inputs)) {
          const file = stripNamespace(key);
          const text = input.files[file];
          if (text !== undefined) sources[file] = text;
        }
        sources[input.entry] = input.files[input.entry] as string;
        return {
          ok: true,
          compiled: {
            entry: input.entry,
            version: strategyVersion(input.entry, sources),
            code,
            sourceMap,
            sources,
          },
        };
      } catch (error) {
        if (isBuildFailure(error)) {
          return { ok: false, issues: error.errors.map((message) => messageToIssue(message, input.entry)) };
        }
        if (isServiceStopped(error)) {
          // The next build starts a fresh service (esbuild's stop() drops the dead one).
          await stop();
          return {
            ok: false,
            issues: [
              {
                field: "source",
                message: `the compiler stopped while compiling ${input.entry} (${(error as Error).message.split("\n")[0]}); it has been restarted — try again, and check the source for pathological constructs`,
                file: input.entry,
              },
            ],
          };
        }
        throw error;
      }
    },
  };
}
