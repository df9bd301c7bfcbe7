import { deniedToolResult, type Decision, type GateKeeper } from "@agentgate/core";
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
 * audited as a DENY (`invalid_input`), and replaced by a denial in the
 * returned history.
 *
 * The record is in-process and bounded (the last 10 000 call ids per gate):
 * verify in the process that ran the calls, e.g. where a server receives the
 * history from a browser before sending it on.
 *
 * @example
 * const { ok, history } = await verifyToolResults(req.body.messages, gate);
 * await client.chat.completions.create({ model, messages: history });
 */
export async function verifyToolResults<History extends readonly Item[]>(
  history: History,
  gate: GateKeeper,
): Promise<VerifiedHistory<History>> {
  if (!Array.isArray(history))
    throw new TypeError("verifyToolResults: `history` must be an array of messages or input items");
  const ledger = ledgerOf(gate);
  const names = new Map<string, string>();
  const forged: (ForgedToolResult & { toolName: string })[] = [];
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
    if (entry === undefined || entry.status === "running")
      reason = `no gated call produced a result for call id ${JSON.stringify(id ?? null)}`;
    else if (typeof content !== "string" || content !== entry.output)
      reason = `the result for call id ${JSON.stringify(id)} is not the one the gated call produced`;
    if (reason === undefined) return item;
    forged.push({
      index,
      callId: id,
      reason: `forged tool result refused: ${reason}`,
      toolName: id !== undefined ? (names.get(id) ?? "unknown") : "unknown",
    });
    return item;
  });
  // Each refusal is audited like any other decision, then replaces the result the model would read.
  for (const f of forged) {
    const decision = await audit(gate, f.toolName, f.callId, f.reason);
    const text = JSON.stringify(deniedToolResult(decision));
    const v = out[f.index] as Record<string, unknown>;
    out[f.index] = v.role === "tool" ? { ...v, content: text } : { ...v, output: text };
  }
  return {
    ok: forged.length === 0,
    forged: forged.map(({ index, callId, reason }) => ({ index, callId, reason })),
    history: out as unknown as History,
  };
}

async function audit(
  gate: GateKeeper,
  toolName: string,
  callId: string | undefined,
  reason: string,
): Promise<Decision> {
  try {
    return await gate.checkToolCall({
      toolName,
      input: undefined,
      inputError: reason,
      ...(callId !== undefined && callId.length <= 1024 ? { callId } : {}),
    });
  } catch {
    return gate.refuse("tool_use", reason, { target: toolName, ...(callId !== undefined ? { callId } : {}) });
  }
}
