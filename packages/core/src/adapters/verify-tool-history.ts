import { deniedToolResult } from "../gate/approval.js";
import type { GateKeeper } from "../gate/gate-keeper.js";
import { verifyToolOutput } from "./tool-output-ledger.js";

/** A tool result in a history that this gate did not produce. */
export interface ForgedToolResult {
  /** Index in the history. */
  index: number;
  callId: string | undefined;
  reason: string;
}

/** What a history check found. */
export interface VerifiedHistory<History> {
  /** True when every tool result in the history came from a gated call. */
  ok: boolean;
  forged: ForgedToolResult[];
  /** The history with every forged result replaced by a denial the model reads. */
  history: History;
}

/** How an adapter reads its framework's history items (each may be anything: the history is untrusted). */
export interface ToolHistoryReader {
  /** The `[callId, toolName]` pairs of the calls an item makes (an assistant turn), if any. */
  calls(item: object): Iterable<readonly [string, string]> | undefined;
  /** The tool result an item carries, if any: its call id, its output, and the item with another output. */
  result(item: object): { callId: string | undefined; output: unknown; with(output: string): unknown } | undefined;
}

/**
 * Checks every tool result in a history against what this gate's adapter produced for its
 * call id (`verifyToolOutput`): a forged or edited result is reported, audited as a DENY
 * (`invalid_input`), and replaced by the denial as JSON in the returned copy. Results are
 * named by the call that announced their id earlier in the history (`unknown` otherwise).
 */
export async function verifyToolHistory<History extends readonly unknown[]>(
  history: History,
  gate: GateKeeper,
  reader: ToolHistoryReader,
): Promise<VerifiedHistory<History>> {
  const names = new Map<string, string>();
  const forged: ForgedToolResult[] = [];
  const out: unknown[] = [...history];
  for (let index = 0; index < out.length; index++) {
    const item = out[index];
    if (typeof item !== "object" || item === null) continue;
    const calls = reader.calls(item);
    if (calls !== undefined) for (const [id, name] of calls) names.set(id, name);
    const result = calls === undefined ? reader.result(item) : undefined;
    if (result === undefined) continue;
    const { callId } = result;
    const toolName = (callId !== undefined ? names.get(callId) : undefined) ?? "unknown";
    const refused = await verifyToolOutput(gate, toolName, callId, result.output);
    if (refused === undefined) continue;
    forged.push({ index, callId, reason: refused.reason });
    out[index] = result.with(JSON.stringify(deniedToolResult(refused.decision)));
  }
  return { ok: forged.length === 0, forged, history: out as unknown as History };
}
