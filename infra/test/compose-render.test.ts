// The committed compose files and the Dockerfiles' port lines are the output of infra/compose
// (`npm run generate:deploy`): a fresh render must reproduce them byte for byte, as
// charts/test/synth.test.ts does for charts/dist.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { TOPOLOGY, withService } from "../shared/config";
import { renderDockerfile, renderDockerfiles } from "../compose/dockerfiles";
import { renderCompose } from "../compose/render";
import { REPO_ROOT } from "./compose-check";

const committed = (file: string) => readFileSync(path.join(REPO_ROOT, file), "utf8");

describe("generated deployment files (run `npm run generate:deploy` after changing the topology)", () => {
  it("docker-compose.yaml and docker-compose.override.yaml match a fresh render", () => {
    const fresh = renderCompose();
    expect(Object.keys(fresh).sort()).toEqual(["docker-compose.override.yaml", "docker-compose.yaml"]);
    for (const [file, text] of Object.entries(fresh)) expect(committed(file), file).toBe(text);
    // Rendering twice gives the same bytes (no order or time dependence).
    expect(renderCompose()).toEqual(fresh);
  });

  it("every service Dockerfile matches a fresh render of its port and start-period lines", () => {
    const fresh = renderDockerfiles();
    expect(Object.keys(fresh)).toHaveLength(7);
    for (const [file, text] of Object.entries(fresh)) expect(committed(file), file).toBe(text);
  });

  it("moves EXPOSE, the *_PORT default, the health check and the header with the topology", () => {
    const moved = withService(
      withService(TOPOLOGY, "data-collection", { port: 9002, startPeriod: 40 }),
      "dry-run-trading",
      { port: 9005 },
    );
    const rendered = renderDockerfiles(moved);
    const dataCollection = rendered["docker/data-collection.Dockerfile"] ?? "";
    expect(dataCollection).toContain("EXPOSE 9002\n");
    expect(dataCollection).toContain("DATA_COLLECTION_PORT=9002\n");
    expect(dataCollection).toContain("process.env.DATA_COLLECTION_PORT??'9002'");
    expect(dataCollection).toContain("--start-period=40s");
    expect(dataCollection).toContain("DataCollectionService): port 9002.");
    expect(dataCollection).not.toMatch(/8002/);
    // The trading image keeps live-trading's defaults; its header names both ports.
    const trading = rendered["docker/trading.Dockerfile"] ?? "";
    expect(trading).toContain("dry-run-trading (9005, --mode dry-run)");
    expect(trading).toContain("EXPOSE 8004\n");
  });

  it("names the Dockerfile and the line it expected when one is missing", () => {
    const text = committed("docker/gateway.Dockerfile").replace(/^EXPOSE \d+\n/m, "");
    expect(() =>
      renderDockerfile("docker/gateway.Dockerfile", text, [TOPOLOGY.services["backend-api"]]),
    ).toThrow("docker/gateway.Dockerfile: expected EXPOSE <port>, got none");
  });
});
