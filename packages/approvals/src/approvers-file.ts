import { chmodSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { parse, stringify } from "yaml";
import { hashPassword, hashToken, newToken, sameHash, verifyPassword } from "./passwords.js";

/** One approver in `approvers.yaml`: only hashes, never a password or a token. */
export interface ApproverEntry {
  /** `scrypt$…` from `hashPassword`. */
  password?: string;
  /** `sha256$…` hashes of API tokens. */
  tokens?: string[];
}

/** Who is signed in, and how. */
export interface Approver {
  id: string;
  via: "password" | "token";
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** Approver names: letters, digits, `.`, `_`, `@`, `-`, at most 64 characters. */
export function isApproverName(name: string): boolean {
  return typeof name === "string" && NAME.test(name);
}

function readEntries(file: string): Record<string, ApproverEntry> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw error;
  }
  const doc = (parse(text) ?? {}) as { approvers?: unknown };
  const raw = doc.approvers;
  const out: Record<string, ApproverEntry> = Object.create(null) as Record<string, ApproverEntry>;
  if (raw === undefined || raw === null) return out;
  if (typeof raw !== "object" || Array.isArray(raw))
    throw new Error(`${file}: approvers must be a mapping of name to { password, tokens }`);
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (!isApproverName(name) || typeof value !== "object" || value === null) continue;
    const v = value as Record<string, unknown>;
    const entry: ApproverEntry = {};
    if (typeof v.password === "string") entry.password = v.password;
    if (Array.isArray(v.tokens)) entry.tokens = v.tokens.filter((t): t is string => typeof t === "string");
    out[name] = entry;
  }
  return out;
}

function writeEntries(file: string, entries: Record<string, ApproverEntry>): void {
  const text = `# AgentGate approvers: scrypt password hashes and SHA-256 token hashes only.\n# Edit with: agentgate approvers add ${basename(file)} NAME --password-stdin\n${stringify({ approvers: { ...entries } })}`;
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text, { encoding: "utf8", mode: 0o600, flag: "w" });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  } catch (error) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean
    }
    throw error;
  }
}

/** Adds an approver or replaces their password (existing tokens are kept). */
export async function addApprover(file: string, name: string, password: string): Promise<void> {
  if (!isApproverName(name))
    throw new TypeError(`invalid approver name ${JSON.stringify(name)}: use letters, digits, . _ @ - (at most 64)`);
  if (typeof password !== "string" || password.length < 8)
    throw new TypeError("the password must be at least 8 characters");
  const entries = readEntries(file);
  entries[name] = { ...entries[name], password: await hashPassword(password) };
  writeEntries(file, entries);
}

/** Creates an API token for an approver, stores its hash, and returns the token (shown once). */
export function addApproverToken(file: string, name: string): string {
  const entries = readEntries(file);
  const entry = entries[name];
  if (!entry) throw new TypeError(`no approver ${JSON.stringify(name)} in ${file}: add them first`);
  const token = newToken();
  entry.tokens = [...(entry.tokens ?? []), hashToken(token)];
  writeEntries(file, entries);
  return token;
}

/**
 * The approvers of a file, re-read whenever it changes (its size or mtime),
 * so adding or removing someone needs no restart. A file that cannot be read
 * or parsed keeps nobody signed in: every sign-in fails until it is fixed.
 */
export class ApproversFile {
  readonly file: string;
  #stamp = "";
  #entries: Record<string, ApproverEntry> = {};

  constructor(file: string) {
    this.file = file;
    this.#load();
  }

  #load(): Record<string, ApproverEntry> {
    let stamp: string;
    try {
      const s = statSync(this.file);
      stamp = `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch {
      stamp = "missing";
    }
    if (stamp !== this.#stamp) {
      try {
        this.#entries = readEntries(this.file);
      } catch {
        this.#entries = {};
      }
      this.#stamp = stamp;
    }
    return this.#entries;
  }

  /** Approver names currently in the file. */
  names(): string[] {
    return Object.keys(this.#load());
  }

  async verifyPassword(name: string, password: string): Promise<Approver | undefined> {
    const entry = isApproverName(name) ? this.#load()[name] : undefined;
    const ok = await verifyPassword(password, entry?.password);
    return ok && entry ? { id: name, via: "password" } : undefined;
  }

  verifyToken(token: string): Approver | undefined {
    if (typeof token !== "string" || token.length < 16 || token.length > 256) return undefined;
    const h = hashToken(token);
    let found: string | undefined;
    for (const [name, entry] of Object.entries(this.#load())) {
      for (const t of entry.tokens ?? []) if (sameHash(t, h)) found ??= name;
    }
    return found === undefined ? undefined : { id: found, via: "token" };
  }

  /** Still listed (a removed approver's sessions stop working). */
  has(name: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.#load(), name);
  }
}
