// Writes the manifests to charts/dist (committed; charts/test/synth.test.ts fails when they are
// stale). Run: `npx tsx charts/src/synth.ts` (or `cdk8s synth` from charts/, see cdk8s.yaml).
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createTradaiApp, renderManifests } from "./tradai-app";

export const DIST_DIRECTORY = path.resolve(import.meta.dirname, "../dist");

export function synthToDirectory(directory: string = DIST_DIRECTORY): string[] {
  const manifests = renderManifests(createTradaiApp());
  mkdirSync(directory, { recursive: true });
  for (const file of readdirSync(directory)) {
    if (file.endsWith(".k8s.yaml")) rmSync(path.join(directory, file));
  }
  for (const [file, text] of Object.entries(manifests)) writeFileSync(path.join(directory, file), text);
  return Object.keys(manifests).sort();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = synthToDirectory();
  console.log(`synthesized ${files.length} manifests into ${path.relative(process.cwd(), DIST_DIRECTORY)}/`);
}
