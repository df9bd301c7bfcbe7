// Test helpers: rewrite audit log lines as someone with write access but without the signing key would.
import { createHash } from "node:crypto";
import type { AgentIdentity } from "../../identity/agent-identity.js";
import { canonicalBody, chainHash, checkpointMessage, GENESIS_HASH, recordLine } from "../audit-record.js";

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
