// Keeps the port and start-period lines of docker/*.Dockerfile in step with infra/shared/config.ts
// (SERVICES): `npm run generate:deploy` rewrites them, infra/test/compose-render.test.ts fails when a
// committed Dockerfile differs from a fresh render. Everything else in a Dockerfile is hand-written.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { SERVICE_NAMES, TOPOLOGY } from "../shared/config";
import type { ServiceConfig, Topology } from "../shared/config";
import { REPOSITORY_ROOT } from "./render";

/** Services by Dockerfile; the first one owns the image's defaults (live-trading for the trading image). */
export function servicesByDockerfile(topology: Topology = TOPOLOGY): Map<string, ServiceConfig[]> {
  const byFile = new Map<string, ServiceConfig[]>();
  for (const name of SERVICE_NAMES) {
    const service = topology.services[name];
    byFile.set(service.dockerfile, [...(byFile.get(service.dockerfile) ?? []), service]);
  }
  return byFile;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * `text` with the lines derived from SERVICES replaced: the `<PREFIX>PORT=` default, EXPOSE, the
 * health check's port fallback and --start-period, and the port named in the header comment. A
 * Dockerfile without one of these lines is an error naming the file and the line expected.
 */
export function renderDockerfile(file: string, text: string, services: readonly ServiceConfig[]): string {
  const [owner] = services;
  if (owner === undefined || owner.port === null) return text;
  const port = String(owner.port);
  const prefix = escape(owner.envPrefix);
  const replace = (source: string, pattern: RegExp, value: string, expected: string) => {
    if (!pattern.test(source)) throw new Error(`${file}: expected ${expected}, got none`);
    return source.replace(pattern, (_match, before: string) => `${before}${value}`);
  };
  const headerEnd = text.search(/^(ARG|FROM) /m);
  let header = text.slice(0, headerEnd);
  let body = text.slice(headerEnd);
  if (services.length > 1) {
    for (const service of services) {
      header = replace(
        header,
        new RegExp(`(${escape(service.name)} \\()\\d+`),
        String(service.port),
        `"${service.name} (<port>" in the header comment`,
      );
    }
  } else {
    header = replace(header, /(\bport )\d+/, port, `"port <port>" in the header comment`);
  }
  body = replace(body, new RegExp(`(\\b${prefix}PORT=)\\d+`), port, `ENV ${owner.envPrefix}PORT=<port>`);
  body = replace(body, /^(EXPOSE )\d+$/m, port, "EXPOSE <port>");
  body = replace(
    body,
    new RegExp(`(process\\.env\\.${prefix}PORT\\?\\?'|os\\.environ\\.get\\('${prefix}PORT', ')\\d+`),
    port,
    `a HEALTHCHECK falling back to port ${port}`,
  );
  body = replace(body, /(--start-period=)\d+/, String(owner.startPeriod), "HEALTHCHECK --start-period=<s>s");
  return header + body;
}

/** Every service Dockerfile rendered from `topology`, by path relative to the repository root. */
export function renderDockerfiles(
  topology: Topology = TOPOLOGY,
  read: (file: string) => string = (file) => readFileSync(path.join(REPOSITORY_ROOT, file), "utf8"),
): Record<string, string> {
  return Object.fromEntries(
    [...servicesByDockerfile(topology)].map(([file, services]) => [
      file,
      renderDockerfile(file, read(file), services),
    ]),
  );
}

export function writeDockerfiles(topology: Topology = TOPOLOGY): string[] {
  return Object.entries(renderDockerfiles(topology)).map(([file, text]) => {
    writeFileSync(path.join(REPOSITORY_ROOT, file), text);
    return file;
  });
}
