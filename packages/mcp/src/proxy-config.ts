import { readFileSync } from "node:fs";
import { CliError, ExitCode, formatValidateResult } from "@agentgate/cli";
import { AgentIdentity, PermissionPolicy, PolicyValidationError, type PolicyIssue } from "@agentgate/core";
import { loadMapping, type McpToolMapping } from "./mapping.js";
import { MappingValidationError } from "./mapping-error.js";

const why = (error: unknown) => {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === "ENOENT"
    ? "no such file"
    : code === "EISDIR"
      ? "it is a directory, not a file"
      : code === "EACCES"
        ? "permission denied"
        : (error as Error).message;
};

/** `agentgate validate`'s report for a file with problems, as a refusal to start (exit 1). */
function invalid(file: string, issues: readonly PolicyIssue[]): CliError {
  const [first, ...rest] = formatValidateResult({ ok: false, file, issues: [...issues] }).split("\n");
  return new CliError(first!.replace(/^invalid\s+/, "invalid "), {
    exitCode: ExitCode.FINDING,
    kind: "invalid_policy",
    details: rest.map((l) => l.trim()),
  });
}

/** Loads the policy, refusing to start on any problem with the same line-numbered report as `agentgate validate`. */
export function loadProxyPolicy(file: string): PermissionPolicy {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new CliError(`cannot read policy file ${file}: ${why(error)}`);
  }
  try {
    return PermissionPolicy.parse(text, file);
  } catch (error) {
    if (PolicyValidationError.isInstance(error)) throw invalid(file, error.issues);
    throw error;
  }
}

/** Loads the tool mapping the same way. */
export function loadProxyMapping(file: string): McpToolMapping {
  try {
    return loadMapping(file);
  } catch (error) {
    if (MappingValidationError.isInstance(error)) throw invalid(file, error.issues);
    throw new CliError(`cannot read mapping file ${file}: ${why(error)}`);
  }
}

/** The identity from `--identity`, or a fresh Ed25519 one (so audit checkpoints can be signed). */
export async function loadProxyIdentity(
  file: string | undefined,
): Promise<{ identity: AgentIdentity; generated: boolean }> {
  if (file === undefined)
    return { identity: await AgentIdentity.create("agentgate-mcp", { algorithm: "Ed25519" }), generated: true };
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new CliError(`cannot read identity file ${file}: ${why(error)}`);
  }
  try {
    return { identity: await AgentIdentity.import(text), generated: false };
  } catch (error) {
    throw new CliError(
      `invalid identity file ${file}: ${(error as Error).message} (create one with \`agentgate keygen\`)`,
    );
  }
}
