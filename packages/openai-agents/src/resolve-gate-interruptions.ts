import { errorText } from "@agentgate/core/internal";
import {
  normalizeApproval,
  type ApprovalAnswer,
  type ApprovalRequest,
  type Decision,
  type GateKeeper,
} from "@agentgate/core";
import type { RunState, RunToolApprovalItem, Tool } from "@openai/agents-core";
import { deniedOutputFor, type ToolDenial } from "./denial.js";
import { findGateLayer, type GateLayer } from "./gate-layers.js";
import { readToolInput } from "./tool-input.js";

/**
 * Answers one escalation: the same request and answer shape as core's
 * `approvalHandler`. Anything but an approval (including a throw) rejects.
 */
export type ApprovalDecider = (request: ApprovalRequest) => ApprovalAnswer | Promise<ApprovalAnswer>;

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
  /** The gate's settled decision; absent when the call never reached the gate. */
  decision?: Decision;
  /** The request `decide` was asked; absent when no human was asked. */
  request?: ApprovalRequest;
}

/** A `RunResult`, `StreamedRunResult` or a bare `RunState` (e.g. from `RunState.fromString`). */
export type InterruptedRun = RunState<any, any> | { readonly state: RunState<any, any> };

/**
 * Settles every interruption that `gate` raised through {@link gateTools}:
 * asks `decide(request)` for each pending escalation, records the answer in
 * the gate (`resolveEscalation`, which also writes the audit), then calls
 * `state.approve(item)` or `state.reject(item, { message })`. Resume the run
 * with `runner.run(agent, result.state)` afterwards.
 *
 * Interruptions the gate did not raise (another gate, the tool's own
 * `needsApproval`, non-function tools) are left untouched and not returned.
 * A call whose arguments cannot be read is rejected without asking anyone.
 * Escalations already settled elsewhere (a shared store, another process)
 * are applied as settled. Works the same after `state.toString()` /
 * `RunState.fromString()`.
 */
export async function resolveGateInterruptions(
  run: InterruptedRun,
  gate: GateKeeper,
  decide: ApprovalDecider,
): Promise<GateInterruptionOutcome[]> {
  const state = stateOf(run);
  if (typeof decide !== "function") throw new TypeError("resolveGateInterruptions: `decide` must be a function");
  const outcomes: GateInterruptionOutcome[] = [];
  // One at a time: a human answers them in order.
  for (const item of state.getInterruptions()) {
    const layered = gatedToolFor(item, gate);
    if (!layered) continue;
    const outcome = await settle(item, layered.tool, layered.layer, gate, decide);
    if (!outcome) continue;
    if (outcome.approved) state.approve(item);
    else state.reject(item, { message: JSON.stringify(deniedOutputFor(outcome.denial)) });
    const { denial: _denial, ...rest } = outcome;
    outcomes.push(rest);
  }
  return outcomes;
}

type Settled = GateInterruptionOutcome & { denial: ToolDenial };

async function settle(
  item: RunToolApprovalItem,
  tool: Tool<any>,
  layer: GateLayer,
  gate: GateKeeper,
  decide: ApprovalDecider,
): Promise<Settled | undefined> {
  const toolName = tool.name;
  const callId = item.rawItem.type === "function_call" ? item.rawItem.callId : undefined;
  const base = { item, toolName, callId };
  const refused = (
    denial: Omit<ToolDenial, "toolName" | "callId">,
    extra: Partial<GateInterruptionOutcome> = {},
  ): Settled => ({
    ...base,
    ...extra,
    approved: false,
    reason: denial.reason,
    ...(denial.decision ? { decision: denial.decision } : {}),
    denial: { toolName, ...(callId ? { callId } : {}), ...denial },
  });

  const parsed = readToolInput(layer.tool, item.arguments);
  const seen = callId ? layer.inputs.get(callId) : undefined;
  const read = parsed.ok && seen !== undefined ? ({ ok: true, input: seen } as const) : parsed;
  if (!read.ok) return refused({ reason: read.reason, code: "invalid_arguments" });

  const check = (): Promise<Decision> =>
    gate.checkToolCall({
      toolName,
      input: read.input,
      ...(callId ? { callId } : {}),
      ...(layer.mapping ? { mapping: layer.mapping } : {}),
    });

  // Never rejects: every failure comes back as an audited DENY.
  const decision = await check();

  if (decision.type === "allow") {
    // An ALLOW that never escalated means the pause came from the tool's own
    // needsApproval, not from this gate: leave it to whoever owns it.
    if (decision.code !== "approved" && decision.escalationId === undefined && decision.approvedBy === undefined)
      return undefined;
    return {
      ...base,
      approved: true,
      reason: decision.reason,
      decision,
      denial: { toolName, reason: decision.reason },
    };
  }
  if (decision.type !== "escalate" || !decision.escalationId) return refused({ reason: decision.reason, decision });

  const request = await approvalRequestFor(gate, decision, read.input);
  let answer: { approved: boolean; approvedBy?: string; reason?: string };
  try {
    answer = normalizeApproval(await decide(request));
  } catch (error) {
    answer = { approved: false, reason: `approval callback failed: ${errorText(error)}` };
  }

  let settled: Decision;
  try {
    // Settled concurrently (another resolver, another process): the decision that won.
    settled = await gate.answerEscalation(decision.escalationId, answer);
  } catch {
    // Gone from the store (expired) or unreadable: the gate's own record decides (never rejects).
    settled = await check();
  }
  if (settled.type === "allow") {
    return {
      ...base,
      approved: true,
      reason: settled.reason,
      decision: settled,
      request,
      denial: { toolName, reason: settled.reason },
    };
  }
  return refused({ reason: settled.reason, decision: settled }, { request });
}

async function approvalRequestFor(gate: GateKeeper, decision: Decision, input: unknown): Promise<ApprovalRequest> {
  try {
    const found = decision.callId ? await gate.pendingEscalationFor(decision.callId) : undefined;
    if (found && found.escalationId === decision.escalationId) return found;
  } catch {
    // Fall through: the decision carries everything the request needs.
  }
  return {
    escalationId: decision.escalationId as string,
    ...(decision.callId ? { callId: decision.callId } : {}),
    agent: { id: decision.agentId, name: decision.agentName },
    action: decision.action,
    ...(decision.target !== undefined ? { target: decision.target } : {}),
    args: input,
    reason: decision.reason,
  } as ApprovalRequest;
}

function stateOf(run: InterruptedRun): RunState<any, any> {
  const candidate = (run as { state?: unknown })?.state ?? run;
  if (!candidate || typeof (candidate as RunState<any, any>).getInterruptions !== "function") {
    throw new TypeError("resolveGateInterruptions: expected a run result or a RunState");
  }
  return candidate as RunState<any, any>;
}

function gatedToolFor(item: RunToolApprovalItem, gate: GateKeeper): { tool: Tool<any>; layer: GateLayer } | undefined {
  if (item.rawItem.type !== "function_call") return undefined;
  const name = item.rawItem.name;
  const tools: readonly Tool<any>[] = Array.isArray(item.agent?.tools) ? item.agent.tools : [];
  for (const tool of tools) {
    if (tool.type !== "function" || tool.name !== name) continue;
    const layer = findGateLayer(tool, gate);
    if (layer) return { tool, layer };
  }
  return undefined;
}
