// Test helpers: audit logs to verify, and their lines rewritten as someone with write access but without the key would.
import fc from "fast-check";
import { createHash } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { makeDecision } from "../../gate/decision.js";
import type { AgentIdentity } from "../../identity/agent-identity.js";
import { canonicalBody, chainHash, checkpointMessage, GENESIS_HASH, recordLine } from "../audit-record.js";
import { JsonlAuditSink } from "../jsonl-audit-sink.js";

/** Decision `i` of the test logs: every third one a DENY. */
export function logDecision(i: number) {
  return makeDecision({
    id: `d-${i}`,
    type: i % 3 === 0 ? "deny" : "allow",
    code: i % 3 === 0 ? "target_not_allowed" : "allowed",
    agentId: "agent-1",
    agentName: "bot",
    action: "tool_use",
    target: i % 3 === 0 ? "rm" : "search",
    reason: `decision ${i}`,
    timestamp: new Date(1_700_000_000_000 + i * 1000).toISOString(),
    policy: "p",
  });
}

/**
 * A log signed by `signer` of 12 decisions in three group commits of 4, each ending in a checkpoint:
 * lines [C, d, d, d, d, C, d, d, d, d, C, d, d, d, d, C] as the sink writes them, and its head file.
 */
export async function writeGroupedLog(file: string, signer: AgentIdentity): Promise<{ lines: string[]; head: string }> {
  const sink = new JsonlAuditSink(file, { signer, flushIntervalMs: 3_600_000 });
  for (let i = 1; i <= 12; i++) {
    sink.write(logDecision(i));
    if (i % 4 === 0) await sink.flush();
  }
  await sink.close();
  return { lines: readFileSync(file, "utf8").split("\n").slice(0, -1), head: readFileSync(`${file}.head`, "utf8") };
}

/** Writes a log's lines and its head file (`null`: no head file). */
export function saveLog(path: string, lines: readonly string[], head: string | null): void {
  writeFileSync(path, lines.length === 0 ? "" : `${lines.join("\n")}\n`);
  if (head === null) rmSync(`${path}.head`, { force: true });
  else writeFileSync(`${path}.head`, head);
}

/**
 * Renumbers `seq` from line index `from` (0-based) on and recomputes every hash
 * there in each line's own format (v1: per record; v2: per chain point, over the
 * records it closes). Checkpoints are re-signed by `resign` (and carry its key)
 * when given; otherwise they keep their old, now wrong, signature.
 */
export async function rechain(lines: readonly string[], from: number, resign?: AgentIdentity): Promise<string[]> {
  const out: string[] = [];
  let prev = GENESIS_HASH;
  let group: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const r = JSON.parse(lines[i]!);
    const point = r.v !== 2 || r.type === "seal" || r.type === "checkpoint";
    if (i < from) {
      out.push(lines[i]!);
      if (point) {
        prev = r.hash;
        group = [];
      } else group.push(lines[i]!);
      continue;
    }
    r.seq = i;
    if (!point) {
      const text = JSON.stringify(r);
      out.push(text);
      group.push(text);
      continue;
    }
    r.prevHash = prev;
    if (r.type === "checkpoint" && resign) r.key = resign.publicKeyJwk();
    const body = canonicalBody(r);
    const hash =
      r.v === 2
        ? createHash("sha256")
            .update(prev + group.map((l) => `${l}\n`).join("") + body)
            .digest("hex")
        : chainHash(prev, body);
    const sig = r.type === "checkpoint" ? (resign ? await resign.sign(checkpointMessage(hash)) : r.sig) : undefined;
    out.push(recordLine(body, hash, sig));
    prev = hash;
    group = [];
  }
  return out;
}

/** The same log in format v1 (every record hashed on its own), signed by `signer`: what an older writer produced. */
export function toV1(lines: readonly string[], signer: AgentIdentity): Promise<string[]> {
  const v1 = lines.map((l) => {
    const r = JSON.parse(l);
    if (r.type === "seal") throw new Error("v1 has no seals: convert a signed log");
    delete r.v;
    return JSON.stringify(r);
  });
  return rechain(v1, 0, signer);
}

/** One edit of a 16-line log: a byte changed, two adjacent lines swapped, a line duplicated or deleted. */
export const logMutation = fc.oneof(
  fc.record({
    kind: fc.constant("byte" as const),
    line: fc.nat(15),
    at: fc.nat(10_000),
    byte: fc.integer({ min: 0x20, max: 0x7e }),
  }),
  fc.record({ kind: fc.constant("swap" as const), line: fc.nat(14) }),
  fc.record({ kind: fc.constant("dup" as const), line: fc.nat(15) }),
  fc.record({ kind: fc.constant("delete" as const), line: fc.nat(14) }),
);

/**
 * `lines` with mutation `m` applied, and the 1-based line where it first shows
 * (`undefined` when the byte edit changes nothing).
 */
export function mutateLog(
  lines: readonly string[],
  m: typeof logMutation extends fc.Arbitrary<infer T> ? T : never,
): { lines: string[]; line: number } | undefined {
  const out = [...lines];
  if (m.kind === "byte") {
    const text = out[m.line]!;
    const at = m.at % text.length;
    const ch = String.fromCharCode(m.byte);
    if (text[at] === ch) return undefined;
    out[m.line] = text.slice(0, at) + ch + text.slice(at + 1);
    return { lines: out, line: m.line + 1 };
  }
  if (m.kind === "swap") {
    [out[m.line], out[m.line + 1]] = [out[m.line + 1]!, out[m.line]!];
    return { lines: out, line: m.line + 1 };
  }
  if (m.kind === "dup") {
    out.splice(m.line + 1, 0, out[m.line]!);
    return { lines: out, line: m.line + 2 };
  }
  out.splice(m.line, 1);
  return { lines: out, line: m.line + 1 };
}
