// ESLint flat config. Type-aware rules (no-floating-promises, no-misused-promises) are errors:
// an unawaited promise in a service is a lost error or a request that never drains on SIGTERM.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

export default tseslint.config(
  {
    ignores: [
      "**/node_modules/**",
      "**/dist/**",
      "packages/proto/src/gen/**",
      "charts/dist/**",
      "bench/.data/**",
      "bench/.venv/**",
      ".test-stack/**",
      ".tradai/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-syntax": [
        "error",
        {
          selector: "LogicalExpression[operator='||'] > Literal",
          message: 'Use ?? for defaults: 0 and "" are values (CONVENTIONS.md).',
        },
      ],
    },
  },
  {
    // The engine is pure (ARCHITECTURE.md §4.1): no Node built-ins, network, clock or randomness.
    files: ["packages/engine/src/**/*.ts"],
    ignores: ["packages/engine/src/**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: [
                "node:*",
                "fs",
                "path",
                "os",
                "http",
                "https",
                "net",
                "child_process",
                "worker_threads",
                "crypto",
              ],
              message: "packages/engine is pure: no I/O or Node built-ins.",
            },
          ],
        },
      ],
      "no-restricted-globals": [
        "error",
        { name: "process", message: "packages/engine is pure: no process access." },
        { name: "fetch", message: "packages/engine is pure: no network." },
        { name: "setTimeout", message: "packages/engine is pure: no timers." },
        { name: "setInterval", message: "packages/engine is pure: no timers." },
      ],
      "no-restricted-properties": [
        "error",
        { object: "Date", property: "now", message: "packages/engine is pure: no clock reads." },
        { object: "Math", property: "random", message: "packages/engine is pure: no randomness." },
        { object: "performance", property: "now", message: "packages/engine is pure: no clock reads." },
      ],
    },
  },
  {
    // core/ never imports api/ or infrastructure/ (ARCHITECTURE.md §3, the 3-layer rule).
    files: ["services/*/src/core/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/api/**", "**/infrastructure/**", "../api/*", "../infrastructure/*"],
              message: "core/ must not import api/ or infrastructure/.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { ...globals.node } },
  },
);
