// Reads V8 .cpuprofile files (node --cpu-prof) and sums self time inside a time window, by package
// (node_modules/<name>, a workspace directory, or node internals) and by function — to say where a
// service spends its CPU during one measured run. The window uses the profile's own clock, which on
// Linux is CLOCK_MONOTONIC in µs, the clock of process.hrtime in every process.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  /** Sampled ms inside the window. */
  sampledMs: number;
  byPackage: [string, number][];
  byFunction: [string, number][];
}

/** Now on the profiler's clock (µs). */
export const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);

function packageOf(url: string): string {
  if (url === "") return "(native: syscalls, GC)";
  const modules = url.lastIndexOf("node_modules/");
  if (modules !== -1) {
    const rest = url.slice(modules + "node_modules/".length).split("/");
    return rest[0]?.startsWith("@") === true ? `${rest[0]}/${rest[1] ?? ""}` : (rest[0] ?? url);
  }
  if (url.startsWith("node:")) return url;
  const match = /\/(packages|services)\/([^/]+)\/|\/(gateway)\//.exec(url);
  if (match) return match[3] ?? `${match[1]}/${match[2]}`;
  return url;
}

export function summarizeProfile(file: string, fromMicros: number, toMicros: number): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const packages = new Map<string, number>();
  const functions = new Map<string, number>();
  let at = profile.startTime;
  let sampled = 0;
  for (let index = 0; index < profile.samples.length; index++) {
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    if (at < fromMicros || at > toMicros) continue;
    const node = nodes.get(profile.samples[index] as number);
    if (node === undefined) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)" || functionName === "(program)") continue;
    const weight = delta / 1000;
    sampled += weight;
    const name = packageOf(url);
    packages.set(name, (packages.get(name) ?? 0) + weight);
    const where =
      url === ""
        ? functionName
        : `${functionName === "" ? "(anonymous)" : functionName} ${path.basename(url)}:${lineNumber + 1}`;
    functions.set(where, (functions.get(where) ?? 0) + weight);
  }
  const top = (map: Map<string, number>) => [...map.entries()].sort((a, b) => b[1] - a[1]);
  return { file, sampledMs: sampled, byPackage: top(packages), byFunction: top(functions) };
}

/** Every .cpuprofile in `directory`, summarized over the window. */
export function summarizeProfiles(directory: string, fromMicros: number, toMicros: number): ProfileSummary[] {
  return readdirSync(directory)
    .filter((name) => name.endsWith(".cpuprofile"))
    .map((name) => summarizeProfile(path.join(directory, name), fromMicros, toMicros));
}
