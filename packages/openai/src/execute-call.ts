import { errorText } from "@agentgate/core/internal";
import { deniedToolResult, type Decision, type GateKeeper, type ToolCall, type ToolMapping } from "@agentgate/core";
import { fingerprintOf, ledgerOf, type CallLedger, type LedgerEntry } from "./ledger.js";
import type { Runnable } from "./tool-set.js";

/** How one call ended. */
export type CallStatus = "ran" | "denied" | "escalated" | "failed";

export interface CallOutcome {
  status: CallStatus;
  decision: Decision;
  /** The text the model reads. */
  output: string;
  /** True when the call id already ran: its first output is returned (no `result` / `error`), nothing runs again. */
  replayed: boolean;
  result?: unknown;
  error?: unknown;
}

export interface CallRequest {
  gate: GateKeeper;
  name: string;
  rawArguments: unknown;
  callId: string | undefined;
  tool: Runnable | undefined;
  mapping: ToolMapping | undefined;
  runner?: unknown;
  toolContext?: unknown;
  /** Set when the call cannot run at all: refused with this reason. */
  problem?: string | undefined;
}

/** What the runner sends back for a return value (the SDK's own rule). */
export function stringifyResult(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined) return "undefined";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

const q = JSON.stringify;
/** Core's limit on call ids. */
const MAX_CALL_ID = 1024;

/**
 * Checks one call with the gate and runs it on ALLOW. Never rejects for gate
 * or input problems (they are DENYs); a function that throws is `failed`.
 * A call id runs once: a repeat with the same tool and arguments gets the
 * first output back without running, a repeat with others is refused.
 */
export async function executeCall(req: CallRequest): Promise<CallOutcome> {
  const { gate, callId } = req;
  // No id, or one core refuses as too long: nothing to remember (and no megabyte keys kept).
  if (callId === undefined || callId.length > MAX_CALL_ID) return decideAndRun(req);
  const ledger = ledgerOf(gate);
  const fingerprint = fingerprintOf(req.name, req.rawArguments);
  let entry = ledger.get(callId);
  while (entry?.status === "running") {
    await ledger.wait(entry);
    entry = ledger.get(callId);
  }
  if (entry !== undefined) {
    if (entry.fingerprint !== fingerprint) {
      const reason = `call id ${q(callId)} was already used for a different tool or arguments; a call id never carries over to another call`;
      return denied(req.gate.refuse("tool_use", reason, { target: req.name, callId, code: "call_mismatch" }));
    }
    if (entry.status === "ran" || entry.status === "failed")
      return { status: entry.status, decision: entry.decision!, output: entry.output!, replayed: true };
  }
  // Claimed before the first await: a concurrent repeat of this id waits for it instead of running too.
  const running: LedgerEntry = { fingerprint, status: "running" };
  ledger.set(callId, running);
  const outcome = await decideAndRun(req);
  settle(ledger, callId, running, outcome);
  return outcome;
}

function settle(ledger: CallLedger, callId: string, running: LedgerEntry, outcome: CallOutcome): void {
  ledger.set(callId, {
    fingerprint: running.fingerprint,
    status: outcome.status,
    decision: outcome.decision,
    output: outcome.output,
  });
  if (running.waiters) for (const wake of running.waiters) wake();
}

function denied(decision: Decision): CallOutcome {
  return {
    status: decision.type === "escalate" ? "escalated" : "denied",
    decision,
    output: JSON.stringify(deniedToolResult(decision)),
    replayed: false,
  };
}

/** An audited DENY for input the gate could not check (core records it as `invalid_input`). */
async function refuse(req: CallRequest, reason: string): Promise<CallOutcome> {
  return denied(await check(req.gate, { toolName: req.name, input: req.rawArguments, inputError: reason }, req.callId));
}

/** Never rejects: anything unexpected is an audited DENY that says what happened (fail closed). */
async function decideAndRun(req: CallRequest): Promise<CallOutcome> {
  const { name, tool } = req;
  const raw = req.rawArguments;
  let decision: Decision;
  let args: unknown;
  try {
    if (req.problem !== undefined) return await refuse(req, req.problem);
    if (typeof raw !== "string") return await refuse(req, `tool ${q(name)} was called without an argument string`);
    try {
      args = JSON.parse(raw);
    } catch (error) {
      return await refuse(req, `malformed JSON arguments for tool ${q(name)}: ${errorText(error)}`);
    }
    if (tool === undefined) return await refuse(req, `no function named ${q(name)} is available to run`);
    if (tool.parse !== undefined) {
      try {
        args = await tool.parse(raw);
      } catch (error) {
        return await refuse(req, `arguments for tool ${q(name)} do not match its schema: ${errorText(error)}`);
      }
    }
    // `execute`: the function runs right after an ALLOW, so a call the gate recorded runs once and a replay is refused.
    const call: ToolCall =
      req.mapping === undefined
        ? { toolName: name, input: args, execute: true }
        : { toolName: name, input: args, mapping: req.mapping, execute: true };
    decision = await check(req.gate, call, req.callId);
  } catch (error) {
    return denied(
      req.gate.refuse("tool_use", `AgentGate could not handle tool call ${q(name)}: ${errorText(error)}`, {
        target: name,
        ...(req.callId ? { callId: req.callId } : {}),
      }),
    );
  }
  if (decision.type !== "allow") return denied(decision);
  try {
    let result = tool!.call(tool!.raw ? raw : args, req.runner, req.toolContext);
    if (isThenable(result)) result = await result;
    return { status: "ran", decision, output: stringifyResult(result), result, replayed: false };
  } catch (error) {
    return {
      status: "failed",
      decision,
      output: JSON.stringify({ error: `tool ${q(name)} failed: ${errorText(error)}` }),
      error,
      replayed: false,
    };
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as PromiseLike<unknown>).then === "function"
  );
}

/** `gate.checkToolCall` that never rejects: a failure is an audited DENY. */
function check(gate: GateKeeper, call: ToolCall, callId: string | undefined): Promise<Decision> {
  if (callId !== undefined && callId !== "") call.callId = callId;
  try {
    return gate.checkToolCall(call).then(undefined, (error: unknown) => refuseCheck(gate, call, error));
  } catch (error) {
    return Promise.resolve(refuseCheck(gate, call, error));
  }
}

function refuseCheck(gate: GateKeeper, call: ToolCall, error: unknown): Decision {
  return gate.refuse(
    "tool_use",
    `AgentGate could not check tool ${q(call.toolName)} (${errorText(error)}), so the call is denied`,
    {
      target: call.toolName,
      ...(call.callId !== undefined ? { callId: call.callId } : {}),
    },
  );
}
