import { canonicalJson, type Decision, type GateKeeper, type ToolMapping } from "@agentgate/core";

// When gateToolApproval and withGate both run for one call, the gate would be asked
// twice. Stateful rules answer the second ask from their per-call record, but plain
// ALLOW rules would audit the call twice. gateToolApproval leaves its ALLOW here and
// the gated execute takes it (once), so each call is one audit entry. Only with the very
// same mapping object: with another mapping, execute could mean another action and target.
const LIMIT = 1000;
type Entry = { input: string; mapping: ToolMapping | undefined; decision: Decision };
const memos = new WeakMap<GateKeeper, Map<string, Entry>>();

function fingerprint(input: unknown): string | undefined {
  try {
    return canonicalJson(input);
  } catch {
    return undefined;
  }
}

/** @internal Remembers an ALLOW the gate gave for `callId` with this exact input. */
export function rememberAllow(
  gate: GateKeeper,
  callId: string,
  input: unknown,
  mapping: ToolMapping | undefined,
  decision: Decision,
): void {
  const key = fingerprint(input);
  if (key === undefined || decision.type !== "allow") return;
  let memo = memos.get(gate);
  if (memo === undefined) memos.set(gate, (memo = new Map()));
  memo.delete(callId);
  memo.set(callId, { input: key, mapping, decision });
  // Bounded: a call that is approved but never executed must not stay forever.
  while (memo.size > LIMIT) {
    const oldest = memo.keys().next().value;
    if (oldest === undefined) break;
    memo.delete(oldest);
  }
}

/** @internal Takes (reads once) a remembered ALLOW, only for the same call id, input and mapping. */
export function takeAllow(
  gate: GateKeeper,
  callId: string | undefined,
  input: unknown,
  mapping: ToolMapping | undefined,
): Decision | undefined {
  if (typeof callId !== "string") return undefined;
  const memo = memos.get(gate);
  const entry = memo?.get(callId);
  if (entry === undefined) return undefined;
  memo!.delete(callId);
  return entry.mapping === mapping && entry.input === fingerprint(input) ? entry.decision : undefined;
}
