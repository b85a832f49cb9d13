// `npm run generate:deploy`: renders the compose files and the Dockerfiles' port lines from
// infra/shared/config.ts (the charts are synthesised by `npm run synth -w @tradai/charts`, which the
// root script runs next). With --check it writes nothing and exits 1 naming every stale file
// (scripts/validate-compose.sh); infra/test/compose-render.test.ts checks the same.
import { readFileSync } from "node:fs";
import path from "node:path";
import { renderDockerfiles, writeDockerfiles } from "./dockerfiles";
import { REPOSITORY_ROOT, renderCompose, writeCompose } from "./render";

if (process.argv.includes("--check")) {
  const rendered = { ...renderCompose(), ...renderDockerfiles() };
  const stale = Object.entries(rendered)
    .filter(([file, text]) => readFileSync(path.join(REPOSITORY_ROOT, file), "utf8") !== text)
    .map(([file]) => file);
  if (stale.length > 0) {
    console.error(
      `generate:deploy: expected ${stale.join(", ")} to match infra/shared/config.ts, got stale files; run \`npm run generate:deploy\``,
    );
    process.exit(1);
  }
  console.log(`ok  ${Object.keys(rendered).length} generated files match infra/shared/config.ts`);
} else {
  for (const file of [...writeCompose(), ...writeDockerfiles()]) {
    console.log(`rendered ${path.relative(REPOSITORY_ROOT, path.resolve(REPOSITORY_ROOT, file))}`);
  }
}
