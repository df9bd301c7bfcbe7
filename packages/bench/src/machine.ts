import { execFileSync } from "node:child_process";
import { cpus, loadavg, release, totalmem, type } from "node:os";

export interface Machine {
  cpu: string;
  cores: number;
  memoryGb: number;
  node: string;
  os: string;
  date: string;
  commit: string;
  loadAtStart: number[];
}

function git(args: string[]): string {
  try {
    return execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
}

export function describeMachine(): Machine {
  const list = cpus();
  const commit = git(["rev-parse", "--short", "HEAD"]);
  const dirty =
    commit && git(["status", "--porcelain", "--untracked-files=no"]) !== "" ? " (with uncommitted changes)" : "";
  return {
    cpu: list[0]?.model.trim() || "unknown",
    cores: list.length,
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    os: `${type()} ${release()}`,
    date: new Date().toISOString(),
    commit: commit ? `${commit}${dirty}` : "unknown",
    loadAtStart: loadavg(),
  };
}

export function load(): string {
  return loadavg()
    .map((x) => x.toFixed(1))
    .join(" / ");
}
