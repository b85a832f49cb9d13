/**
 * Compiles a strategy file and its local imports into one script with esbuild. Only two kinds of
 * import are allowed: "@tradai/engine" (left external: the sandbox supplies its own engine copy)
 * and local files ("./lib/x"), resolved against the given files, never against the disk, so a
 * strategy from S3 or an upload compiles exactly like one from the strategies directory.
 */
import path from "node:path";
import { build, type BuildFailure, type Message, type Plugin } from "esbuild";
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
        throw error;
      }
    },
  };
}
