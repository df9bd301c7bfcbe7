import { chmodSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { AgentIdentity, type PublicIdentity, type SigningAlgorithm } from "@agentgate/core";
import { ExitCode, usageError } from "../errors.js";
import { renderFields } from "../format/explanation.js";
import { escapeControl } from "../format/escape.js";
import { createStyle } from "../format/style.js";
import { printJson, type CommandContext } from "./context.js";

export interface KeygenOptions {
  algorithm?: string;
  name?: string;
  out?: string;
  force?: boolean;
  json?: boolean;
}

/** The result of `agentgate keygen`: where the secret went, and the public part only. */
export interface KeygenResult {
  ok: true;
  file: string;
  identity: PublicIdentity;
}

const ALGORITHMS: Record<string, SigningAlgorithm> = { ed25519: "Ed25519", hs256: "HS256" };

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes `data` so that the file is mode 0600 from its first byte: a fresh
 * temporary file created with that mode, then renamed into place.
 */
function writeSecretFile(file: string, data: string, force: boolean): void {
  if (exists(file) && !force) throw usageError(`${file} already exists; use --force to overwrite it`);
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, data, { encoding: "utf8", mode: 0o600, flag: "wx" });
    chmodSync(tmp, 0o600); // whatever the umask
    renameSync(tmp, file);
  } catch (error) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean up
    }
    const e = error as NodeJS.ErrnoException;
    const why =
      e.code === "ENOENT" ? "its folder does not exist" : e.code === "EISDIR" ? "it is a directory" : e.message;
    throw usageError(`cannot write ${file}: ${why}`);
  }
}

/** Creates an identity and writes it, key included, as JSON with mode 0600. */
export async function keygen(
  options: { algorithm?: string; name?: string; out?: string; force?: boolean } = {},
): Promise<KeygenResult> {
  const algorithm = ALGORITHMS[(options.algorithm ?? "Ed25519").toLowerCase()];
  if (!algorithm) throw usageError(`--algorithm must be Ed25519 or HS256, got ${JSON.stringify(options.algorithm)}`);
  const name = options.name ?? "agent";
  if (name.trim() === "") throw usageError("--name must not be empty");
  const file = options.out ?? `${name.replace(/[^A-Za-z0-9._-]+/g, "-")}.identity.json`;
  if (exists(file) && !options.force) throw usageError(`${file} already exists; use --force to overwrite it`);
  const identity = await AgentIdentity.create(name, { algorithm });
  writeSecretFile(file, `${JSON.stringify(identity.export(), null, 2)}\n`, options.force === true);
  return { ok: true, file, identity: identity.toJSON() };
}

/** Human-readable form: the public part and where the secret is. */
export function formatKeygenResult(result: KeygenResult, options: { color?: boolean } = {}): string {
  const s = createStyle(options.color ?? false);
  const id = result.identity;
  const fields: [string, string | undefined][] = [
    ["id", id.id],
    ["name", id.name],
    ["algorithm", id.algorithm],
    ["public key", id.publicKeyJwk ? JSON.stringify(id.publicKeyJwk) : undefined],
    ["secret", `${result.file} (mode 0600, keep it private)`],
  ];
  const lines = [`${s.green("created")}  agent identity "${escapeControl(id.name)}"`, ...renderFields(fields, s)];
  if (id.algorithm === "HS256")
    lines.push(`  ${s.dim("HS256 uses a shared secret: there is no public key to hand out.")}`);
  return lines.join("\n");
}

export async function runKeygen(options: KeygenOptions, ctx: CommandContext): Promise<number> {
  const result = await keygen(options);
  if (options.json) printJson(ctx, result);
  else ctx.out(formatKeygenResult(result, { color: ctx.color }));
  return ExitCode.OK;
}
