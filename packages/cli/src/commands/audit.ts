import type { DecisionType } from "@agentgate/core";
import { verifyAuditLog, type AuditLogEntry, type AuditLogVerification } from "@agentgate/core/node";
import { filterAuditEntries, parseSince, type AuditFilter } from "../audit-filter.js";
import { assertReadableFile, loadAuditEntries } from "../audit-file.js";
import { ExitCode, usageError } from "../errors.js";
import { escapeControl } from "../format/escape.js";
import { renderAuditTable } from "../format/audit-table.js";
import { formatVerifyResult } from "../format/verify.js";
import { parseCount, readInputFile } from "../load.js";
import { printJson, type CommandContext } from "./context.js";

/** Reads a `--public-key` file: a public JWK, a public identity, an exported identity, or `keygen --json` output. */
export function readPublicKeyFile(file: string): unknown {
  const text = readInputFile(file, "public key file");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw usageError(
      `--public-key ${file}: not JSON (expected an Ed25519 public JWK or an identity file from agentgate keygen)`,
    );
  }
  const nested = (value as { identity?: { publicKeyJwk?: unknown } } | null)?.identity;
  if (nested && typeof nested === "object" && nested.publicKeyJwk) return nested;
  return value;
}

/** Verifies an audit log; a missing file or a bad key file is a usage error. */
export async function verifyAuditFile(
  file: string,
  options: { publicKey?: string; allowUnsignedTail?: boolean } = {},
): Promise<AuditLogVerification> {
  assertReadableFile(file, "audit log");
  const publicKey = options.publicKey !== undefined ? readPublicKeyFile(options.publicKey) : undefined;
  try {
    return await verifyAuditLog(file, {
      ...(publicKey !== undefined ? { publicKey: publicKey as never } : {}),
      ...(options.allowUnsignedTail ? { allowUnsignedTail: true } : {}),
    });
  } catch (error) {
    if (error instanceof TypeError && /publicKey/.test(error.message))
      throw usageError(`--public-key ${options.publicKey}: ${error.message.replace(/^publicKey: /, "")}`);
    throw usageError(`cannot verify ${file}: ${(error as Error).message}`);
  }
}

export async function runAuditVerify(
  file: string,
  options: { publicKey?: string; allowUnsignedTail?: boolean; json?: boolean },
  ctx: CommandContext,
): Promise<number> {
  const result = await verifyAuditFile(file, options);
  if (options.json) printJson(ctx, { file, ...result });
  else
    ctx.out(
      formatVerifyResult(result, { file, color: ctx.color, allowUnsignedTail: options.allowUnsignedTail === true }),
    );
  return result.ok ? ExitCode.OK : ExitCode.FINDING;
}

export interface AuditShowOptions {
  agent?: string;
  type?: string;
  since?: string;
  limit?: string;
  json?: boolean;
}

/** The result of `agentgate audit show`. */
export interface AuditShowResult {
  file: string;
  /** Decisions in the file. */
  total: number;
  /** Decisions shown, oldest first. */
  entries: AuditLogEntry[];
}

export async function showAudit(file: string, options: AuditShowOptions, now: number): Promise<AuditShowResult> {
  const filter: AuditFilter = {};
  if (options.agent !== undefined) filter.agent = options.agent;
  if (options.type !== undefined) filter.type = options.type as DecisionType;
  if (options.since !== undefined) filter.since = parseSince(options.since, now);
  if (options.limit !== undefined) filter.limit = parseCount(options.limit, "--limit");
  const all = await loadAuditEntries(file);
  return { file, total: all.length, entries: filterAuditEntries(all, filter) };
}

export async function runAuditShow(file: string, options: AuditShowOptions, ctx: CommandContext): Promise<number> {
  const result = await showAudit(file, options, ctx.now());
  if (options.json) {
    printJson(ctx, { file: result.file, total: result.total, shown: result.entries.length, entries: result.entries });
    return ExitCode.OK;
  }
  if (result.entries.length === 0) {
    ctx.out(
      escapeControl(
        result.total === 0 ? `${file}: no decisions recorded` : `${file}: none of the ${result.total} decisions match`,
      ),
    );
    return ExitCode.OK;
  }
  ctx.out(renderAuditTable(result.entries, { color: ctx.color, align: ctx.tty }));
  if (ctx.tty) ctx.out(`\n${result.entries.length} of ${result.total} decisions`);
  return ExitCode.OK;
}
