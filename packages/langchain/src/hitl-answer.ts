import type { ApprovalResolution, ToolCall } from "@agentgate/core";
import { hitlResponseApproves } from "@agentgate/core/internal";

type Write = [task: string, channel: string, value: unknown];
type Tuple = { pendingWrites?: Write[]; checkpoint?: { channel_values?: { messages?: unknown } } };
type Saver = { list(config: unknown, options: unknown): AsyncIterable<Tuple> };

/**
 * When `humanInTheLoopMiddleware` already asked a human about this very tool
 * call and the human approved it (or edited it into the call it now is), the
 * approval to record, so the gate does not ask again. Anything unexpected:
 * undefined, and the gate asks.
 *
 * LangChain keeps no record of a HITL answer on the message, so this reads the
 * run's own checkpoints (server-side state LangGraph wrote) in the HITL node's
 * namespace: the one whose last AI message is the message now running, its
 * HITL question and, once stored, the human's answer. With `durability: "exit"`
 * the answer is stored only when the run ends; a call that got to the tools
 * from the message asked about was approved or edited (a rejection or an open
 * question never gets here), so it counts only with the arguments asked about.
 */
export async function hitlApproval(
  runtime: unknown,
  state: unknown,
  call: ToolCall,
): Promise<ApprovalResolution | undefined> {
  try {
    const configurable = own(runtime, "configurable");
    const saver = own(configurable, "__pregel_checkpointer") as Saver | undefined;
    const ns = own(configurable, "checkpoint_ns");
    const running = own(lastAiMessage(own(state, "messages")), "id");
    if (typeof saver?.list !== "function" || typeof ns !== "string" || typeof running !== "string") return undefined;
    // This task runs in the tools node's namespace; the HITL node ran in its parent's.
    const parentNs = ns.split("|").slice(0, -1).join("|");
    const where = { configurable: { thread_id: own(configurable, "thread_id"), checkpoint_ns: parentNs } };
    for await (const { checkpoint, pendingWrites: writes = [] } of saver.list(where, { limit: 3 })) {
      const asked = lastAiMessage(checkpoint?.channel_values?.messages);
      if (running === "" || own(asked, "id") !== running) continue;
      if (!(own(asked, "tool_calls") as unknown[]).some((c) => own(c, "id") === call.callId)) return undefined;
      const [task, , value] = writes.find(([, channel, v]) => channel === "__interrupt__" && hitlQuestion(v)) ?? [];
      const actions = hitlQuestion(value);
      if (actions === undefined) continue;
      const stored = writes.find(([t, channel]) => t === task && channel === "__resume__")?.[2];
      // Not stored yet (durability "exit"): the call is here, so it was approved as asked or edited.
      const answer = stored === undefined ? { decisions: actions.map(() => ({ type: "approve" })) } : only(stored);
      if (!hitlResponseApproves(actions, answer, call)) return undefined;
      return {
        approved: true,
        approvedBy: "humanInTheLoopMiddleware",
        reason: "approved through humanInTheLoopMiddleware",
      };
    }
  } catch {
    // Could not read the run's state: the gate asks.
  }
  return undefined;
}

/** A HITL question's actions (ours carry `type: "agentgate.approval"` and are answered through the gate). */
function hitlQuestion(value: unknown): unknown[] | undefined {
  const request = own(only(value), "value");
  const actions = own(request, "actionRequests");
  return own(request, "type") === undefined && Array.isArray(actions) ? actions : undefined;
}

function lastAiMessage(messages: unknown): unknown {
  return Array.isArray(messages) ? messages.findLast((m) => Array.isArray(own(m, "tool_calls"))) : undefined;
}

/** The one element of a one-element array (LangGraph's interrupt and resume writes), else undefined. */
function only(value: unknown): unknown {
  return Array.isArray(value) && value.length === 1 ? value[0] : undefined;
}

function own(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && Object.hasOwn(value, key)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}
