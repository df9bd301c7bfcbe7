import { canonicalJson } from "@agentgate/core/internal";

/**
 * When `humanInTheLoopMiddleware` already asked a human about this very tool
 * call (same agent step, same call id) and the human approved it (or edited it
 * into the arguments it now has), returns who answered, so the gate records
 * that answer instead of asking a second time. Anything unexpected: undefined,
 * and the gate asks itself.
 *
 * LangChain keeps no record of a HITL answer on the message, so this reads the
 * run's own checkpoint (server-side state written by LangGraph): the HITL
 * node's interrupt, its resume value and the AI message it wrote, in the
 * checkpoints just before this tool call.
 */
export async function hitlApproval(
  runtime: unknown,
  call: { id: string; name: string; args: unknown },
): Promise<{ approvedBy: string } | undefined> {
  try {
    const configurable = (runtime as { configurable?: Record<string, unknown> } | undefined)?.configurable;
    const saver = configurable?.__pregel_checkpointer as
      | { list?: (config: unknown, options: unknown) => AsyncIterable<CheckpointTuple> }
      | undefined;
    const threadId = configurable?.thread_id;
    const ns = configurable?.checkpoint_ns;
    if (
      typeof saver?.list !== "function" ||
      (typeof threadId !== "string" && typeof threadId !== "number") ||
      typeof ns !== "string"
    )
      return undefined;
    // This task runs in the tools node's namespace; the HITL node ran in its parent's.
    const parentNs = ns.split("|").slice(0, -1).join("|");
    const args = canonicalJson(call.args);
    for await (const tuple of saver.list(
      { configurable: { thread_id: threadId, checkpoint_ns: parentNs } },
      { limit: 3 },
    )) {
      const found = approvalIn(tuple.pendingWrites ?? [], call, args);
      if (found !== undefined) return found ? { approvedBy: "humanInTheLoopMiddleware" } : undefined;
    }
  } catch {
    // Could not read the run's state: the gate asks.
  }
  return undefined;
}

interface CheckpointTuple {
  pendingWrites?: [string, string, unknown][];
}

/** true: approved (or edited into these args); false: this step's HITL node did not approve it; undefined: no HITL answer here. */
function approvalIn(
  writes: [string, string, unknown][],
  call: { id: string; name: string },
  args: string,
): boolean | undefined {
  for (const [taskId, channel, value] of writes) {
    if (channel !== "__interrupt__" || !Array.isArray(value) || value.length !== 1) continue;
    const request = (value[0] as { value?: unknown } | null)?.value as
      | { actionRequests?: unknown; type?: unknown }
      | undefined;
    // A HITL request (ours carry `type: "agentgate.approval"` and are answered through the gate).
    if (!request || request.type !== undefined || !Array.isArray(request.actionRequests)) continue;
    // The same task must have written the AI message holding this call id (this step, this call).
    if (!writes.some(([t, ch, v]) => t === taskId && ch === "messages" && holdsCall(v, call.id))) continue;
    const resume = writes.find(([t, ch]) => t === taskId && ch === "__resume__")?.[2];
    const decisions =
      Array.isArray(resume) && resume.length === 1
        ? (resume[0] as { decisions?: unknown } | null)?.decisions
        : undefined;
    if (!Array.isArray(decisions) || decisions.length !== request.actionRequests.length) return false;
    return request.actionRequests.some((action: unknown, i: number) => {
      const a = action as { name?: unknown; args?: unknown };
      const d = decisions[i] as { type?: unknown; editedAction?: { name?: unknown; args?: unknown } } | null;
      if (a?.name !== call.name || typeof d !== "object" || d === null) return false;
      if (d.type === "approve") return canonicalJson(a.args) === args;
      if (d.type === "edit") return d.editedAction?.name === call.name && canonicalJson(d.editedAction.args) === args;
      return false;
    });
  }
  return undefined;
}

function holdsCall(value: unknown, callId: string): boolean {
  const messages = Array.isArray(value) ? value : [value];
  return messages.some((m) => {
    const calls =
      (m as { tool_calls?: unknown; kwargs?: { tool_calls?: unknown } } | null)?.tool_calls ??
      (m as { kwargs?: { tool_calls?: unknown } } | null)?.kwargs?.tool_calls;
    return Array.isArray(calls) && calls.some((c) => (c as { id?: unknown } | null)?.id === callId);
  });
}
