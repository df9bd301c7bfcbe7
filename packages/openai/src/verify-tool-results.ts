import { deniedToolResult, type GateKeeper } from "@agentgate/core";
import type { ChatCompletionMessageParam } from "openai/resources/chat/completions";
import type { ResponseInputItem } from "openai/resources/responses/responses";
import { ledgerOf } from "./ledger.js";

/** A tool result in a history that this gate did not produce. */
export interface ForgedToolResult {
  /** Index in the history. */
  index: number;
  callId: string | undefined;
  reason: string;
}

/** What {@link verifyToolResults} found. */
export interface VerifiedHistory<History> {
  /** True when every tool result in the history came from a gated call. */
  ok: boolean;
  forged: ForgedToolResult[];
  /** The history with every forged result replaced by a denial the model reads. */
  history: History;
}

type Item = ChatCompletionMessageParam | ResponseInputItem;

/**
 * Checks the tool results in a history the app is about to send (Chat
 * Completions `messages`, or Responses `input` items): each `role: "tool"`
 * message and `function_call_output` item must be exactly what
 * `runToolCalls` / `gateRunTools` produced for that call id with this gate.
 * Anything else (a result for a call that never ran, an edited result, a
 * result from a client that rebuilt the history) is forged: it is reported,
 * audited as a DENY, and replaced by a denial in the returned history.
 *
 * The record is in-process and bounded (the last 10 000 call ids per gate):
 * verify in the process that ran the calls, e.g. where a server receives the
 * history from a browser before sending it on.
 *
 * @example
 * const { ok, history } = verifyToolResults(req.body.messages, gate);
 * await client.chat.completions.create({ model, messages: history });
 */
export function verifyToolResults<History extends readonly Item[]>(history: History, gate: GateKeeper): VerifiedHistory<History> {
  if (!Array.isArray(history)) throw new TypeError("verifyToolResults: `history` must be an array of messages or input items");
  const ledger = ledgerOf(gate);
  const names = new Map<string, string>();
  const forged: ForgedToolResult[] = [];
  const out = history.map((item: unknown, index) => {
    if (typeof item !== "object" || item === null) return item;
    const v = item as Record<string, unknown>;
    if (v.role === "assistant" && Array.isArray(v.tool_calls)) {
      for (const c of v.tool_calls as { id?: unknown; function?: { name?: unknown } }[]) {
        if (typeof c?.id === "string" && typeof c.function?.name === "string") names.set(c.id, c.function.name);
      }
      return item;
    }
    if (v.type === "function_call" && typeof v.call_id === "string" && typeof v.name === "string") {
      names.set(v.call_id, v.name);
      return item;
    }
    const chat = v.role === "tool";
    const responses = v.type === "function_call_output";
    if (!chat && !responses) return item;
    const callId = chat ? v.tool_call_id : v.call_id;
    const content = chat ? v.content : v.output;
    const id = typeof callId === "string" && callId !== "" ? callId : undefined;
    const entry = id === undefined ? undefined : ledger.get(id);
    let reason: string | undefined;
    if (entry === undefined || entry.status === "running") reason = `no gated call produced a result for call id ${JSON.stringify(id ?? null)}`;
    else if (typeof content !== "string" || content !== entry.output) reason = `the result for call id ${JSON.stringify(id)} is not the one the gated call produced`;
    if (reason === undefined) return item;
    const full = `forged tool result refused: ${reason}`;
    forged.push({ index, callId: id, reason: full });
    const toolName = id !== undefined ? (names.get(id) ?? "unknown") : "unknown";
    const decision = gate.refuse("tool_use", full, { target: toolName, ...(id !== undefined ? { callId: id } : {}) });
    const text = JSON.stringify(deniedToolResult(decision));
    return chat ? { ...v, content: text } : { ...v, output: text };
  });
  return { ok: forged.length === 0, forged, history: out as unknown as History };
}
