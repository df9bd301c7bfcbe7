import type { CallRecord, ConsumeOutcome, ConsumeRequest, ConsumeResult } from "@agentgate/core";
import { decision, unexpected } from "./escalation-lists.js";

const OUTCOMES = new Set<string>(["allow", "escalate", "deny_after", "rate_limit"]);

/** A consume script's reply as a result; anything else is `StoreUnavailableError`. */
export function consumed(reply: unknown, call: ConsumeRequest["call"]): ConsumeResult {
  if (!Array.isArray(reply) || reply.length === 0) throw unexpected("consume", reply);
  if (reply[0] === "repeat") {
    const rec = parseCallRecord(reply.slice(1) as string[]);
    const mismatch = rec.fingerprint !== call!.fingerprint;
    const result: ConsumeResult = { outcome: rec.outcome, used: rec.used, repeat: { ...rec, mismatch } };
    if (rec.retryAfterMs !== undefined) result.retryAfterMs = rec.retryAfterMs;
    return result;
  }
  const [outcome, used, retry] = reply as [string, number, number];
  if (!OUTCOMES.has(outcome) || typeof used !== "number") throw unexpected("consume", reply);
  const result: ConsumeResult = { outcome: outcome as ConsumeOutcome, used };
  if (typeof retry === "number" && retry >= 0) result.retryAfterMs = retry;
  return result;
}

/** `RATE_LUA`'s reply: -1 when admitted, else the retry-after in ms. */
export function rated(reply: unknown): ConsumeResult {
  if (reply === -1) return { outcome: "allow", used: 0 };
  if (typeof reply !== "number" || !(reply >= 1)) throw unexpected("consume", reply);
  return { outcome: "rate_limit", used: 0, retryAfterMs: reply };
}

function parseCallRecord(flat: string[]): CallRecord {
  const h: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) h[flat[i]!] = flat[i + 1]!;
  if (!OUTCOMES.has(h.outcome ?? "") || h.decisionId === undefined || h.fingerprint === undefined) {
    throw unexpected("consume", flat);
  }
  const rec: CallRecord = {
    outcome: h.outcome as ConsumeOutcome,
    used: Number(h.used),
    decisionId: h.decisionId,
    escalationId: h.escalationId ?? "",
    at: Number(h.at),
    fingerprint: h.fingerprint,
  };
  if (h.retryAfterMs !== undefined) rec.retryAfterMs = Number(h.retryAfterMs);
  if (h.settled !== undefined) rec.settled = decision(h.settled);
  if (h.executed === "1") rec.executed = true;
  return rec;
}
