import { errorText } from "../errors/error-text.js";
import { deniedToolResult } from "../gate/approval.js";
import type { Decision } from "../gate/decision.js";
import type { GateKeeper } from "../gate/gate-keeper.js";
import { MAX_CALL_ID, quote, type ToolCall, type ToolMapping } from "../gate/tool-call.js";
import { toolOutputLedgerOf, type ToolOutputEntry } from "./tool-output-ledger.js";

/** How one gated tool call ended. */
export type ToolRunStatus = "ran" | "denied" | "escalated" | "failed";

/** What {@link runToolCallOnce} resolves: the gate's decision, what ran, and what the model reads. */
export interface ToolRunOutcome {
  /**
   * `ran`: ALLOW, the function returned. `denied`: it never ran (the reason is in `output`).
   * `escalated`: a human must approve first; settle `decision.escalationId` with
   * `gate.resolveEscalation`, then run the same call again.
   * `failed`: ALLOW, but the function threw (`error`).
   */
  status: ToolRunStatus;
  decision: Decision;
  /** The text the model reads: the result, the failure, or the denial as JSON (`{ denied: true, code, reason }`). */
  output: string;
  /** True when this call id had already run: its first output is returned (no `result` / `error`), nothing runs again. */
  replayed: boolean;
  /** The function's return value (status `ran`, not `replayed`). */
  result?: unknown;
  /** What the function threw (status `failed`, not `replayed`). */
  error?: unknown;
}

/** One tool call whose arguments came as JSON text (the OpenAI-style function call). */
export interface JsonToolCall {
  gate: GateKeeper;
  toolName: string;
  callId: string | undefined;
  /** The arguments as the model sent them: JSON text, or anything else (refused). */
  rawArguments: unknown;
  mapping?: ToolMapping | undefined;
  /** Set when the call cannot run at all: an audited DENY with this reason. */
  problem?: string | undefined;
  /** The tool's own reading of the raw text (a schema); throwing is an audited DENY. Default: the parsed JSON. */
  parse?: ((raw: string) => unknown) | undefined;
  /**
   * Runs the tool with the checked input and this call (an adapter's own fields ride along on it, so
   * `run` can be one function per tool rather than a closure per call); undefined when no tool has
   * this name (an audited DENY).
   */
  run: ((input: unknown, call: this) => unknown) | undefined;
  /** The text the model reads for a value `run` returned. Default {@link toolResultText}. */
  toText?: ((value: unknown) => string) | undefined;
}

/** A tool's return value as the model reads it (the OpenAI runners' rule): a string as is, anything else as JSON. */
export function toolResultText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined) return "undefined";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Checks one call with `gate.checkToolCall` (`execute: true`) and runs it on ALLOW. Never
 * rejects: malformed JSON, a schema the arguments fail, an unknown tool are audited DENYs,
 * and a tool that throws is `failed`. A call id runs once per gate in this process: a repeat
 * with the same tool and arguments gets the first output back without running, a repeat with
 * others is refused (`call_mismatch`), a concurrent repeat waits for the first.
 *
 * `shape` turns the outcome into what the adapter returns, in the callback that records it
 * (one promise fewer per call than a `then` of its own); it gets the call too, so it needs no
 * closure per call (a copy when the call id is `""`, read as no id). `run` and `shape` must not
 * write to the call: the run is settled against the call's gate after `run`.
 */
export function runToolCallOnce<C extends JsonToolCall, R = ToolRunOutcome>(
  call: C,
  shape: Shape<C, R> = same as never,
): Promise<R> {
  // An empty id is no id (the gate would refuse it as malformed).
  if (call.callId === "") call = { ...call, callId: undefined };
  const { callId } = call;
  // No id, one the gate refuses as too long, or a call the gate refuses as malformed (no tool name):
  // nothing to remember (and no megabyte keys kept); the gate decides and audits it.
  if (typeof callId !== "string" || callId.length > MAX_CALL_ID || typeof call.toolName !== "string")
    return decideAndRun(call, shape, undefined);
  const ledger = toolOutputLedgerOf(call.gate);
  const seen = ledger.get(callId);
  if (seen !== undefined) return repeat(call, callId, seen).then((outcome) => shape(outcome, call));
  // Claimed before the first await: a concurrent repeat of this id waits for it instead of running too.
  return decideAndRun(call, shape, ledger.claim(callId, call.toolName, argsText(call)));
}

async function repeat(call: JsonToolCall, callId: string, entry: ToolOutputEntry | undefined): Promise<ToolRunOutcome> {
  const ledger = toolOutputLedgerOf(call.gate);
  while (entry?.status === "running") {
    await ledger.wait(entry);
    entry = ledger.get(callId);
  }
  if (entry !== undefined) {
    if (entry.toolName !== call.toolName || entry.args !== argsText(call)) {
      const reason = `call id ${quote(callId)} was already used for a different tool or arguments; a call id never carries over to another call`;
      return denied(call.gate.refuse("tool_use", reason, { target: call.toolName, callId, code: "call_mismatch" }));
    }
    if (entry.status === "ran" || entry.status === "failed")
      return { status: entry.status, decision: entry.decision!, output: entry.output!, replayed: true };
  }
  // Denied or escalated before: decided again (an escalation may have been answered since).
  return decideAndRun(call, same, ledger.claim(callId, call.toolName, argsText(call)));
}

/** The argument text a call id is bound to: any non-text arguments count as one input (refused anyway). */
const argsText = (call: JsonToolCall) => (typeof call.rawArguments === "string" ? call.rawArguments : undefined);

/** What the adapter makes of an outcome (see {@link runToolCallOnce}). */
type Shape<C, R> = (outcome: ToolRunOutcome, call: C) => R;
const same: Shape<unknown, ToolRunOutcome> = (outcome) => outcome;

/**
 * Ends one call: records the outcome of a claimed call in its ledger entry (on every path, before
 * anyone reads it), then shapes it. The entry is passed along rather than captured, so a call
 * allocates no closure for this.
 */
function finish<C extends JsonToolCall, R>(
  call: C,
  outcome: ToolRunOutcome,
  shape: Shape<C, R>,
  entry: ToolOutputEntry | undefined,
): R {
  if (entry !== undefined)
    toolOutputLedgerOf(call.gate).settle(entry, outcome.status, outcome.decision, outcome.output);
  return shape(outcome, call);
}

/** Why a call's input cannot be checked: recorded as an `invalid_input` DENY. */
class Unreadable {
  constructor(readonly reason: string) {}
}

/** The input the gate checks and the tool receives (maybe after an async schema), or why there is none. */
function readInput(call: JsonToolCall): unknown {
  const { toolName: name, rawArguments: raw } = call;
  if (call.problem !== undefined) return new Unreadable(call.problem);
  if (typeof raw !== "string") return new Unreadable(`tool ${quote(name)} was called without an argument string`);
  let input: unknown;
  try {
    input = JSON.parse(raw);
  } catch (error) {
    return new Unreadable(`malformed JSON arguments for tool ${quote(name)}: ${errorText(error)}`);
  }
  if (call.run === undefined) return new Unreadable(`no function named ${quote(name)} is available to run`);
  if (call.parse === undefined) return input;
  const schemaError = (error: unknown) =>
    new Unreadable(`arguments for tool ${quote(name)} do not match its schema: ${errorText(error)}`);
  try {
    const parsed = call.parse(raw);
    return isThenable(parsed) ? Promise.resolve(parsed).then(undefined, schemaError) : parsed;
  } catch (error) {
    return schemaError(error);
  }
}

/**
 * Reads, checks and runs one call. Written with `then` rather than `async`: the usual path (sync
 * input, sync tool) costs one promise hop over the gate's own check.
 */
function decideAndRun<C extends JsonToolCall, R>(
  call: C,
  shape: Shape<C, R>,
  entry: ToolOutputEntry | undefined,
): Promise<R> {
  const input = readInput(call);
  if (input instanceof Unreadable)
    return refuse(call, input.reason).then((outcome) => finish(call, outcome, shape, entry));
  if (!isThenable(input)) return checkAndRun(call, input, shape, entry);
  return Promise.resolve(input).then((read) =>
    read instanceof Unreadable
      ? refuse(call, read.reason).then((outcome) => finish(call, outcome, shape, entry))
      : checkAndRun(call, read, shape, entry),
  );
}

function checkAndRun<C extends JsonToolCall, R>(
  call: C,
  input: unknown,
  shape: Shape<C, R>,
  entry: ToolOutputEntry | undefined,
): Promise<R> {
  // `execute`: the tool runs right after an ALLOW, so a call the gate recorded runs once and a replay is refused.
  const check: ToolCall =
    call.callId === undefined
      ? { toolName: call.toolName, input, mapping: call.mapping, execute: true }
      : { toolName: call.toolName, input, callId: call.callId, mapping: call.mapping, execute: true };
  return call.gate.checkToolCall(check).then((decision) => {
    if (decision.type !== "allow") return finish(call, denied(decision), shape, entry);
    let result: unknown;
    try {
      result = call.run!(input, call);
    } catch (error) {
      return finish(call, failed(call, decision, error), shape, entry);
    }
    if (!isThenable(result)) return finish(call, ran(call, decision, result), shape, entry);
    return Promise.resolve(result).then(
      (value) => finish(call, ran(call, decision, value), shape, entry),
      (error: unknown) => finish(call, failed(call, decision, error), shape, entry),
    );
  });
}

function ran(call: JsonToolCall, decision: Decision, result: unknown): ToolRunOutcome {
  let output: string;
  try {
    output = (call.toText ?? toolResultText)(result);
  } catch (error) {
    return failed(call, decision, error);
  }
  return { status: "ran", decision, output, result, replayed: false };
}

function failed(call: JsonToolCall, decision: Decision, error: unknown): ToolRunOutcome {
  const output = JSON.stringify({ error: `tool ${quote(call.toolName)} failed: ${errorText(error)}` });
  return { status: "failed", decision, output, error, replayed: false };
}

/** A refused call's outcome: the model reads the denial as JSON. */
function denied(decision: Decision): ToolRunOutcome {
  return {
    status: decision.type === "escalate" ? "escalated" : "denied",
    decision,
    output: JSON.stringify(deniedToolResult(decision)),
    replayed: false,
  };
}

/** An audited DENY for input the gate could not check (recorded as `invalid_input`). */
function refuse(call: JsonToolCall, reason: string): Promise<ToolRunOutcome> {
  const check: ToolCall = { toolName: call.toolName, input: call.rawArguments, inputError: reason };
  if (call.callId !== undefined) check.callId = call.callId;
  return call.gate.checkToolCall(check).then(denied);
}

/** A hostile `then` getter counts as no `then`: nothing here may throw. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  if ((typeof value !== "object" && typeof value !== "function") || value === null) return false;
  try {
    return typeof (value as PromiseLike<unknown>).then === "function";
  } catch {
    return false;
  }
}
