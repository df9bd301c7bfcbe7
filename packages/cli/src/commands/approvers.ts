import { addApprover, addApproverToken } from "@agentgate/approvals";
import { ExitCode, usageError } from "../errors.js";
import type { CommandContext } from "./context.js";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** `agentgate approvers add FILE NAME --password-stdin`: writes an scrypt hash, never the password. */
export async function runApproversAdd(
  file: string,
  name: string,
  opts: { passwordStdin?: boolean },
  ctx: CommandContext,
): Promise<number> {
  // Never from argv: it would sit in shell history and `ps`.
  if (!opts.passwordStdin) throw usageError("pass the password on stdin with --password-stdin (never as an argument)");
  const password = (await readStdin()).replace(/\r?\n$/, "");
  try {
    await addApprover(file, name, password);
  } catch (error) {
    throw usageError(error instanceof Error ? error.message : String(error));
  }
  ctx.out(`added approver ${name} to ${file} (scrypt hash)`);
  return ExitCode.OK;
}

/** `agentgate approvers token NAME`: prints a new API token once; the file keeps only its hash. */
export function runApproversToken(name: string, opts: { approvers?: string }, ctx: CommandContext): number {
  const file = opts.approvers ?? "approvers.yaml";
  let token: string;
  try {
    token = addApproverToken(file, name);
  } catch (error) {
    throw usageError(error instanceof Error ? error.message : String(error));
  }
  ctx.err(
    `new API token for ${name} (shown once; ${file} keeps only its hash). Send it as: Authorization: Bearer <token>`,
  );
  ctx.out(token);
  return ExitCode.OK;
}
