import { verifyToolOutput } from "@agentgate/core/internal";
import { deniedToolResult, type GateKeeper } from "@agentgate/core";
import type { ChatCompletionMessageParam } from "openai/resources/chat/completions";
import type { ResponseInputItem } from "openai/resources/responses/responses";

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
 * The record is in-process and bounded (at least the last 10 000 call ids per gate):
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
  const names = new Map<string, string>();
  const forged: ForgedToolResult[] = [];
  const out: unknown[] = [...history];
  for (let index = 0; index < out.length; index++) {
    const item = out[index];
    if (typeof item !== "object" || item === null) continue;
    const v = item as Record<string, unknown>;
    if (v.role === "assistant" && Array.isArray(v.tool_calls)) {
      for (const c of v.tool_calls as { id?: unknown; function?: { name?: unknown } }[]) {
        if (typeof c?.id === "string" && typeof c.function?.name === "string") names.set(c.id, c.function.name);
      }
      continue;
    }
    if (v.type === "function_call" && typeof v.call_id === "string" && typeof v.name === "string") {
      names.set(v.call_id, v.name);
      continue;
    }
    const chat = v.role === "tool";
    if (!chat && v.type !== "function_call_output") continue;
    const rawId = chat ? v.tool_call_id : v.call_id;
    const callId = typeof rawId === "string" && rawId !== "" ? rawId : undefined;
    const toolName = (callId !== undefined ? names.get(callId) : undefined) ?? "unknown";
    const refused = await verifyToolOutput(gate, toolName, callId, chat ? v.content : v.output);
    if (refused === undefined) continue;
    forged.push({ index, callId, reason: refused.reason });
    // The model reads the audited denial instead of the forged result.
    const text = JSON.stringify(deniedToolResult(refused.decision));
    out[index] = chat ? { ...v, content: text } : { ...v, output: text };
  }
  return { ok: forged.length === 0, forged, history: out as unknown as History };
}
