import { parseDocument } from "yaml";
import { readFileSync, statSync } from "node:fs";
import { PermissionPolicy, PolicyValidationError, type PolicyIssue } from "@agentgate/core";
import { CliError, ExitCode, usageError } from "./errors.js";

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Why a file cannot be read, in plain words. */
function whyUnreadable(error: unknown): string {
  const code = errnoCode(error);
  if (code === "ENOENT") return "no such file";
  if (code === "EISDIR") return "it is a directory, not a file";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  return (error as Error).message;
}

/**
 * Reads a text file the user named. A missing file, a directory or an
 * unreadable file is a usage error (exit 2) with one clear line.
 */
export function readInputFile(path: string, what = "file"): string {
  try {
    if (statSync(path).isDirectory()) throw usageError(`cannot read ${what} ${path}: it is a directory, not a file`);
    return readFileSync(path, "utf8");
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw usageError(`cannot read ${what} ${path}: ${whyUnreadable(error)}`);
  }
}

/** One policy problem as `file:line: path: message`, compiler style. */
export function formatIssue(issue: PolicyIssue, source?: string): string {
  const where = [source, issue.line].filter((x) => x !== undefined).join(":");
  const path = issue.path ? `${issue.path}: ` : "";
  return `${where ? `${where}: ` : ""}${path}${issue.message}`;
}

/**
 * Loads a policy file. Unreadable file: usage error (exit 2). Invalid policy
 * (including YAML syntax): a finding (exit 1) listing every problem with its line.
 */
export function loadPolicy(path: string): PermissionPolicy {
  const text = readInputFile(path, "policy file");
  try {
    return PermissionPolicy.parse(text, path);
  } catch (error) {
    if (PolicyValidationError.isInstance(error)) {
      const n = error.issues.length;
      throw new CliError(`invalid policy ${path} (${n} problem${n === 1 ? "" : "s"})`, {
        exitCode: ExitCode.FINDING,
        kind: "invalid_policy",
        details: error.issues.map((i) => formatIssue(i, path)),
      });
    }
    throw error;
  }
}

/** Parses YAML (or JSON) text; a syntax error is a usage error naming the file and line. */
export function parseYamlText(text: string, source: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line;
    const message = (first.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
    throw usageError(`cannot parse ${source}${line !== undefined ? `:${line}` : ""}: YAML syntax: ${message}`);
  }
  return doc.toJS({ maxAliasCount: 100 });
}

/** Parses a `--args` value; anything that is not JSON is a usage error. */
export function parseJsonOption(value: string, option: string): unknown {
  try {
    return JSON.parse(value);
  } catch (error) {
    throw usageError(`${option} must be JSON: ${(error as Error).message}`);
  }
}

/** Parses a non-negative integer option value. */
export function parseCount(value: string, option: string): number {
  if (!/^\d+$/.test(value.trim()))
    throw usageError(`${option} must be a whole number >= 0, got ${JSON.stringify(value)}`);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw usageError(`${option} is too large: ${value}`);
  return n;
}
