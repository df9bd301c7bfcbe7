import type { ApprovalResolution, ToolCall } from "@agentgate/core";
import { canonicalJson, readResumeAnswer } from "@agentgate/core/internal";

type Write = [task: string, channel: string, value: unknown];
type Tuple = { pendingWrites?: Write[]; checkpoint?: { channel_values?: { messages?: unknown } } };
type Saver = { list(config: unknown, options: unknown): AsyncIterable<Tuple> };

/**
 * When `humanInTheLoopMiddleware` already asked a human about this very tool
 * call and the human approved it (or edited it into the arguments it now has),
 * the approval to record, so the gate does not ask a second time. Anything
 * unexpected: undefined, and the gate asks itself.
 *
 * LangChain keeps no record of a HITL answer on the message, so this reads the
 * run's own checkpoints (server-side state LangGraph wrote) in the HITL node's
 * namespace: a checkpoint whose last AI message is the one now running, with
 * the HITL question about it and, once stored, the human's answer. With
 * `durability: "exit"` the answer is stored only when the run ends; a call
 * that got to the tools from the message asked about, with the arguments the
 * human saw, was approved (a rejection or an open question never gets here).
 */
export async function hitlApproval(
  runtime: unknown,
  state: unknown,
  call: ToolCall,
): Promise<ApprovalResolution | undefined> {
  try {
    const configurable = own(runtime, "configurable");
    const saver = own(configurable, "__pregel_checkpointer") as Saver | undefined;
    const threadId = own(configurable, "thread_id");
    const ns = own(configurable, "checkpoint_ns");
    if (typeof saver?.list !== "function" || typeof ns !== "string" || call.callId === undefined) return undefined;
    if (typeof threadId !== "string" && typeof threadId !== "number") return undefined;
    const args = canonicalJson(call.input);
    const running = lastAiMessage(own(state, "messages"));
    const runningId = field(running, "id");
    if (typeof runningId !== "string" || runningId === "") return undefined;
    // This task runs in the tools node's namespace; the HITL node ran in its parent's.
    const config = { configurable: { thread_id: threadId, checkpoint_ns: ns.split("|").slice(0, -1).join("|") } };
    for await (const tuple of saver.list(config, { limit: 3 })) {
      const asked = lastAiMessage(tuple.checkpoint?.channel_values?.messages);
      if (field(asked, "id") !== runningId || callIn(asked, call.callId) === undefined) continue;
      const writes = tuple.pendingWrites ?? [];
      for (const [task, channel, value] of writes) {
        const actions = channel === "__interrupt__" ? hitlQuestion(value) : undefined;
        if (actions === undefined) continue;
        const resume = writes.find(([t, ch]) => t === task && ch === "__resume__")?.[2];
        const approved =
          resume === undefined
            ? canonicalJson(own(callIn(running, call.callId), "args")) === args &&
              actions.some((a) => own(a, "name") === call.toolName && canonicalJson(own(a, "args")) === args)
            : approvedIn(actions, resume, call.toolName, args);
        return approved
          ? {
              approved: true,
              approvedBy: "humanInTheLoopMiddleware",
              reason: "approved through humanInTheLoopMiddleware",
            }
          : undefined;
      }
    }
  } catch {
    // Could not read the run's state: the gate asks.
  }
  return undefined;
}

/** A HITL question's actions (ours carry `type: "agentgate.approval"` and are answered through the gate). */
function hitlQuestion(value: unknown): unknown[] | undefined {
  const request = Array.isArray(value) && value.length === 1 ? own(value[0], "value") : undefined;
  const actions = own(request, "actionRequests");
  return own(request, "type") === undefined && Array.isArray(actions) ? actions : undefined;
}

/** The HITL answer approved this call, or edited it into these arguments. */
function approvedIn(actions: unknown[], resume: unknown, toolName: string, args: string): boolean {
  const decisions = Array.isArray(resume) && resume.length === 1 ? own(resume[0], "decisions") : undefined;
  if (!Array.isArray(decisions) || decisions.length !== actions.length) return false;
  return actions.some((action, i) => {
    const answer = readResumeAnswer({ decisions: [decisions[i]] });
    if (own(action, "name") !== toolName || own(answer.resolution, "approved") !== true) return false;
    const approved = answer.edited ?? { name: toolName, args: own(action, "args") };
    return approved.name === toolName && canonicalJson(approved.args) === args;
  });
}

function lastAiMessage(messages: unknown): unknown {
  return Array.isArray(messages) ? messages.findLast((m) => Array.isArray(field(m, "tool_calls"))) : undefined;
}

function callIn(message: unknown, callId: string): unknown {
  return (field(message, "tool_calls") as unknown[] | undefined)?.find((c) => own(c, "id") === callId);
}

/** A message field, on the message or (serialised) in its `kwargs`. */
function field(message: unknown, key: string): unknown {
  return own(message, key) ?? own(own(message, "kwargs"), key);
}

function own(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && Object.hasOwn(value, key)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}
