// Checkpoints the sink writes: built (chained) when queued, signed when their group is written.
import { canonicalJson } from "../gate/fingerprint.js";
import type { AgentIdentity, JsonWebKey } from "../identity/agent-identity.js";
import { chainHash, checkpointMessage, recordLine } from "./audit-record.js";
import type { PendingCheckpoint } from "./record-queue.js";

/** The checkpoint at `seq` after `prevHash`, taken at `now`, ready to queue. */
export function pendingCheckpoint(
  signer: AgentIdentity,
  key: JsonWebKey,
  seq: number,
  prevHash: string,
  now: number,
): PendingCheckpoint {
  const at = new Date(now).toISOString();
  const body = canonicalJson({
    at,
    key,
    prevHash,
    seq,
    signer: { id: signer.id, name: signer.name },
    type: "checkpoint",
  });
  return { seq, body, hash: chainHash(prevHash, body), at };
}

/**
 * The checkpoint's line, signed. If signing fails the line is still written
 * (the chain must continue) with an empty signature, which verification reports.
 */
export async function signedCheckpointLine(
  signer: AgentIdentity,
  checkpoint: PendingCheckpoint,
  onFailure: (error: unknown) => void,
): Promise<string> {
  let sig = "";
  try {
    sig = await signer.sign(checkpointMessage(checkpoint.hash));
  } catch (error) {
    onFailure(error);
  }
  return recordLine(checkpoint.body, checkpoint.hash, sig);
}
