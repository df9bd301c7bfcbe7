import { deniedToolResult, type Decision, type GateKeeper, type ToolMapping } from "@agentgate/core";
import { fingerprintOf, ledgerOf, type LedgerEntry } from "./ledger.js";
import type { Runnable } from "./tool-set.js";

/** How one call ended. */
export type CallStatus = "ran" | "denied" | "escalated" | "failed";

export interface CallOutcome {
  status: CallStatus;
  decision: Decision;
  /** The text the model reads. */
  output: string;
  /** True when the call id already ran: its first output is returned, nothing runs again. */
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

function message(error: unknown): string {
  if (error instanceof Error) return error.message.split("\n")[0] || error.name;
  try {
    return String(error);
  } catch {
    return "unknown error";
  }
}

/**
 * Checks one call with the gate and runs it on ALLOW. Never rejects for gate
 * or input problems (they are DENYs); a function that throws is `failed`.
 * A call id runs once: a repeat with the same tool and arguments gets the
 * first output back without running, a repeat with others is refused.
 */
export async function executeCall(req: CallRequest): Promise<CallOutcome> {
  const { gate, name, callId } = req;
  const ledger = ledgerOf(gate);
  const fingerprint = fingerprintOf(name, typeof req.rawArguments === "string" ? req.rawArguments : "\u0000not-a-string");
  const refuse = async (reason: string): Promise<CallOutcome> => {
    const decision = await safeCheck(gate, { toolName: name, input: req.rawArguments, callId, inputError: reason });
    return { status: "denied", decision, output: JSON.stringify(deniedToolResult(decision)), replayed: false };
  };

  if (callId !== undefined) {
    let entry = ledger.get(callId);
    while (entry?.status === "running") {
      await entry.done;
      entry = ledger.get(callId);
    }
    if (entry && entry.fingerprint !== fingerprint) {
      return refuse(`call id ${JSON.stringify(callId)} was already used for a different tool or arguments; a call id never carries over to another call`);
    }
    if (entry && (entry.status === "ran" || entry.status === "failed")) {
      const out: CallOutcome = { status: entry.status, decision: entry.decision!, output: entry.output!, replayed: true };
      if (entry.status === "ran") out.result = entry.result;
      else out.error = entry.error;
      return out;
    }
  }

  // Claimed before the first await: a parallel repeat of this id waits for it instead of running too.
  let release: () => void = () => {};
  if (callId !== undefined) {
    const done = new Promise<void>((resolve) => (release = resolve));
    ledger.set(callId, { fingerprint, status: "running", done });
  }
  let outcome: CallOutcome;
  try {
    outcome = await decideAndRun(req, refuse);
  } catch (error) {
    // Nothing above should throw; if it does, fail closed and say why.
    const decision = gate.refuse("tool_use", `AgentGate could not handle tool call ${JSON.stringify(name)}: ${message(error)}`, { target: name, ...(callId ? { callId } : {}) });
    outcome = { status: "denied", decision, output: JSON.stringify(deniedToolResult(decision)), replayed: false };
  }
  if (callId !== undefined) {
    const entry: LedgerEntry = { fingerprint, status: outcome.status, decision: outcome.decision, output: outcome.output };
    if ("result" in outcome) entry.result = outcome.result;
    if ("error" in outcome) entry.error = outcome.error;
    ledger.set(callId, entry);
  }
  release();
  return outcome;
}

async function decideAndRun(req: CallRequest, refuse: (reason: string) => Promise<CallOutcome>): Promise<CallOutcome> {
  const { gate, name, callId, tool } = req;
  const raw = req.rawArguments;
  if (req.problem !== undefined) return refuse(req.problem);
  if (typeof raw !== "string") return refuse(`tool ${JSON.stringify(name)} was called without an argument string`);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    return refuse(`malformed JSON arguments for tool ${JSON.stringify(name)}: ${message(error)}`);
  }
  if (!tool) return refuse(`no function named ${JSON.stringify(name)} is available to run`);
  let args: unknown = json;
  if (tool.parse) {
    try {
      args = await tool.parse(raw);
    } catch (error) {
      return refuse(`arguments for tool ${JSON.stringify(name)} do not match its schema: ${message(error)}`);
    }
  }
  const decision = await safeCheck(gate, {
    toolName: name,
    input: args,
    callId,
    ...(req.mapping ? { mapping: req.mapping } : {}),
    // The function runs right after an ALLOW: a call the gate recorded runs once, a replay is refused.
    execute: true,
  });
  if (decision.type === "escalate") return { status: "escalated", decision, output: JSON.stringify(deniedToolResult(decision)), replayed: false };
  if (decision.type !== "allow") return { status: "denied", decision, output: JSON.stringify(deniedToolResult(decision)), replayed: false };
  try {
    const result = await tool.call(tool.raw ? raw : args, req.runner, req.toolContext);
    return { status: "ran", decision, output: stringifyResult(result), result, replayed: false };
  } catch (error) {
    const output = JSON.stringify({ error: `tool ${JSON.stringify(name)} failed: ${message(error)}` });
    return { status: "failed", decision, output, error, replayed: false };
  }
}

/** `gate.checkToolCall` that never rejects: a failure is an audited DENY. */
async function safeCheck(gate: GateKeeper, call: Parameters<GateKeeper["checkToolCall"]>[0]): Promise<Decision> {
  const callId = call.callId !== undefined && call.callId !== "" ? call.callId : undefined;
  try {
    const { callId: _ignored, ...rest } = call;
    return await gate.checkToolCall(callId === undefined ? rest : { ...rest, callId });
  } catch (error) {
    return gate.refuse("tool_use", `AgentGate could not check tool ${JSON.stringify(call.toolName)} (${message(error)}), so the call is denied`, { target: call.toolName, ...(callId ? { callId } : {}) });
  }
}
