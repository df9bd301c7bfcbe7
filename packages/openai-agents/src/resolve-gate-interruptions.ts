import { askAboutPausedCall } from "@agentgate/core/internal";
import {
  deniedToolResult,
  type ApprovalHandler,
  type ApprovalRequest,
  type Decision,
  type GateKeeper,
} from "@agentgate/core";
import type { RunState, RunToolApprovalItem, Tool } from "@openai/agents-core";
import { findGateLayer } from "./gate-tools.js";

/**
 * Answers one escalation: the same request and answer shape as core's `approvalHandler`. Anything but an
 * approval (including a throw) rejects.
 */
export type ApprovalDecider = ApprovalHandler;

/** What happened to one interruption the gate raised. */
export interface GateInterruptionOutcome {
  /** The SDK's approval item, now approved or rejected in the run state. */
  item: RunToolApprovalItem;
  toolName: string;
  callId: string | undefined;
  /** True when the gate recorded an approval and the state was approved. */
  approved: boolean;
  /** Plain-words reason; for a rejection this is what the model reads. */
  reason: string;
  /** The gate's settled decision. */
  decision?: Decision;
  /** The request `decide` was asked; absent when no human was asked. */
  request?: ApprovalRequest;
}

/** A `RunResult`, `StreamedRunResult` or a bare `RunState` (e.g. from `RunState.fromString`). */
export type InterruptedRun = RunState<any, any> | { readonly state: RunState<any, any> };

/**
 * Settles every interruption that `gate` raised through {@link gateTools}: asks `decide(request)` for each
 * pending escalation, records the answer in the gate (`resolveEscalation`, which also writes the audit), then
 * calls `state.approve(item)` or `state.reject(item, { message })`. Resume the run with `runner.run(agent,
 * result.state)` afterwards.
 *
 * Interruptions the gate did not raise (another gate, the tool's own `needsApproval`, non-function tools) are
 * left untouched and not returned. A call whose arguments cannot be read is rejected (audited) without asking
 * anyone. Escalations already settled elsewhere (a shared store, another process) are applied as settled. Works
 * the same after `state.toString()` / `RunState.fromString()`.
 */
export async function resolveGateInterruptions(
  run: InterruptedRun,
  gate: GateKeeper,
  decide: ApprovalDecider,
): Promise<GateInterruptionOutcome[]> {
  const candidate = (run as { state?: unknown })?.state ?? run;
  if (!candidate || typeof (candidate as RunState<any, any>).getInterruptions !== "function") {
    throw new TypeError("resolveGateInterruptions: expected a run result or a RunState");
  }
  const state = candidate as RunState<any, any>;
  if (typeof decide !== "function") throw new TypeError("resolveGateInterruptions: `decide` must be a function");
  const outcomes: GateInterruptionOutcome[] = [];
  // One at a time: a human answers them in order.
  for (const item of state.getInterruptions()) {
    const call = item.rawItem.type === "function_call" ? item.rawItem : undefined;
    const tools: readonly Tool<any>[] = Array.isArray(item.agent?.tools) ? item.agent.tools : [];
    const layer = tools.map((t) => (t.name === call?.name ? findGateLayer(t, gate) : undefined)).find(Boolean);
    if (!call || !layer) continue;
    const paused = layer.toolCall(call.callId, item.arguments);
    const { decision, request, handled } = await askAboutPausedCall(gate, paused, decide);
    // Nothing for the gate to answer: the pause came from the tool's own needsApproval.
    if (!handled) continue;
    const approved = decision.type === "allow";
    if (approved) state.approve(item);
    else state.reject(item, { message: JSON.stringify({ ...deniedToolResult(decision), reason: decision.reason }) });
    outcomes.push({
      item,
      toolName: layer.toolName,
      callId: call.callId,
      approved,
      reason: decision.reason,
      decision,
      ...(request ? { request } : {}),
    });
  }
  return outcomes;
}
