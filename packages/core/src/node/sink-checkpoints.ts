// Chain points the sink writes at the end of each group: a checkpoint (signed when its group is written) or, without a signer, a seal.
import { canonicalJson } from "../gate/fingerprint.js";
import type { AgentIdentity, JsonWebKey } from "../identity/agent-identity.js";
import { checkpointMessage, recordLine } from "./audit-record.js";
import type { PendingCheckpoint } from "./record-queue.js";

/** The canonical body (the line without `hash` and `sig`) of the chain point at `seq` after `prevHash`. */
export function chainPointBody(
  signer: { identity: AgentIdentity; key: JsonWebKey } | undefined,
  seq: number,
  prevHash: string,
  at: string,
): string {
  if (signer === undefined) return canonicalJson({ at, prevHash, seq, type: "seal", v: 2 });
  const { identity, key } = signer;
  return canonicalJson({
    at,
    key,
    prevHash,
    seq,
    signer: { id: identity.id, name: identity.name },
    type: "checkpoint",
    v: 2,
  });
}

/**
 * The chain point's line: a seal as it is, a checkpoint signed. If signing fails
 * the line is still written (the chain must continue) with an empty signature,
 * which verification reports.
 */
export async function chainPointLine(
  signer: AgentIdentity | undefined,
  point: PendingCheckpoint,
  onFailure: (error: unknown) => void,
): Promise<string> {
  if (signer === undefined) return recordLine(point.body, point.hash);
  let sig = "";
  try {
    sig = await signer.sign(checkpointMessage(point.hash));
  } catch (error) {
    onFailure(error);
  }
  return recordLine(point.body, point.hash, sig);
}
