import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PermissionPolicy } from "@agentgate/core";
import { ExitCode, usageError } from "../errors.js";
import { STARTER_POLICY } from "../starter-policy.js";
import { printJson, type CommandContext } from "./context.js";

export interface InitOptions {
  force?: boolean;
  json?: boolean;
}

/** The result of `agentgate init`. */
export interface InitResult {
  ok: true;
  file: string;
  policy: string;
  rules: number;
  overwritten: boolean;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Writes the starter policy to `path` (a directory gets `policy.yaml` inside it). */
export function initPolicy(path: string, options: { force?: boolean } = {}): InitResult {
  const file = isDirectory(path) ? join(path, "policy.yaml") : path;
  let existed = false;
  try {
    statSync(file);
    existed = true;
  } catch {
    // does not exist: fine
  }
  if (existed && !options.force) throw usageError(`${file} already exists; use --force to overwrite it`);
  try {
    writeFileSync(file, STARTER_POLICY, { encoding: "utf8", flag: options.force ? "w" : "wx" });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const why =
      e.code === "ENOENT"
        ? "its folder does not exist"
        : e.code === "EEXIST"
          ? "it already exists (use --force)"
          : e.code === "EISDIR"
            ? "it is a directory"
            : e.message;
    throw usageError(`cannot write ${file}: ${why}`);
  }
  const policy = PermissionPolicy.parse(STARTER_POLICY, file);
  return { ok: true, file, policy: policy.name, rules: policy.rules.length, overwritten: existed };
}

export function runInit(path: string | undefined, options: InitOptions, ctx: CommandContext): number {
  const result = initPolicy(path ?? "policy.yaml", options);
  if (options.json) printJson(ctx, result);
  else {
    ctx.out(
      `${result.overwritten ? "overwrote" : "wrote"} ${result.file}: policy "${result.policy}", ${result.rules} rules, one per action kind`,
    );
    ctx.out(`next: agentgate validate ${path ?? "policy.yaml"}`);
  }
  return ExitCode.OK;
}
