import type { ActionName } from "../action.js";
import type { DecisionCode } from "./decision.js";
import type { EscalationRecord } from "./store.js";
import { errorText } from "../errors/error-text.js";

/** The second argument of `check`: a target, or options. */
export interface CheckOptions {
  target?: string;
  /** The action's arguments (e.g. tool input): shown to approvers, bound into the call fingerprint. */
  args?: unknown;
  /** The framework's id for this call: a second check with it returns the same decision. */
  callId?: string;
  /** Free-form context for sinks and observers. */
  context?: Record<string, unknown>;
  /** The action runs right after an ALLOW: a call recorded under `callId` may run only once (see `ToolCall.execute`). */
  execute?: boolean;
}

/** Maps tool names to actions and targets, e.g. `{ readFile: { action: "file_read", target: (i) => i.path } }`. */
export type ToolMapping = Record<
  string,
  {
    action: ActionName;
    target?: (input: any) => string | undefined;
  }
>;

/** A tool call as every adapter sees it. */
export interface ToolCall {
  toolName: string;
  input: unknown;
  callId?: string;
  mapping?: ToolMapping;
  context?: Record<string, unknown>;
  /**
   * Set by an adapter that could not read the call's input (e.g. malformed JSON
   * arguments): the gate records a DENY with this reason instead of deciding.
   */
  inputError?: string;
  /**
   * Set by adapters on the check made right before the tool runs. A call the
   * gate recorded (limits, approvals) then runs at most once: a replayed
   * history or run state that asks again is refused (`call_replayed`).
   */
  execute?: boolean;
}

/** Longest call id accepted (framework ids are a few dozen characters). */
export const MAX_CALL_ID = 1024;

/** The store key prefix of one agent's call records under one policy (call records and escalations share it). */
export function callKeyPrefix(policyName: string, agentId: string): string {
  return `${encodeURIComponent(policyName)}:${agentId}:call:`;
}

/** Quotes a model-written string for a reason text. */
export const quote: (value: unknown) => string = JSON.stringify;

/** One check, read from `check`'s arguments or a tool call. */
export interface CheckRequest {
  action: string;
  target: string | undefined;
  args: unknown;
  callId: string | undefined;
  context: Record<string, unknown> | undefined;
  /** The caller runs the action right after an ALLOW: a recorded call may run once, a replay is refused. */
  execute?: boolean;
}

/** A tool call the gate refuses before deciding: what to audit and why. */
export interface ToolCallRefusal {
  request: CheckRequest;
  code: DecisionCode;
  reason: string;
}

/** A prototype-free copy of an object's own fields: what is not set is `undefined`, never inherited. */
export function ownCopy<T extends object>(value: T): T {
  return Object.assign(Object.create(null) as T, value);
}

const isOwnEnumerable = Object.prototype.propertyIsEnumerable;

/**
 * `ownCopy(value)[key]` without the copy (a dictionary-mode object per call on the hot path):
 * the own enumerable property, or undefined when the value only inherits it.
 */
export function ownValue<T extends object, K extends keyof T>(value: T, key: K): T[K] | undefined {
  return isOwnEnumerable.call(value, key) ? value[key] : undefined;
}

/** `value[key]` for an own property, or undefined when reading it throws (a hostile getter or proxy). */
export function safeOwn(value: object, key: string): unknown {
  try {
    return isOwnEnumerable.call(value, key) ? (value as Record<string, unknown>)[key] : undefined;
  } catch {
    return undefined;
  }
}

/** Reads `check(action, targetOrOptions)`. @throws TypeError on programmer misuse. */
export function parseCheck(action: unknown, targetOrOptions: unknown): CheckRequest {
  if (typeof action !== "string" || action === "") throw new TypeError("action must be a non-empty string");
  if (targetOrOptions === undefined)
    return { action, target: undefined, args: undefined, callId: undefined, context: undefined };
  if (typeof targetOrOptions === "string")
    return { action, target: targetOrOptions, args: undefined, callId: undefined, context: undefined };
  if (typeof targetOrOptions !== "object" || targetOrOptions === null || Array.isArray(targetOrOptions)) {
    throw new TypeError(
      "the second argument of check must be a target string or { target?, args?, callId?, context? }",
    );
  }
  // Own properties only, each read once, without copying the options object.
  const o = targetOrOptions as CheckOptions;
  const target = ownValue(o, "target");
  const args = ownValue(o, "args");
  const callId = ownValue(o, "callId");
  const context = ownValue(o, "context");
  const execute = ownValue(o, "execute") === true;
  if (target !== undefined && typeof target !== "string") throw new TypeError("target must be a string");
  if (callId !== undefined && (typeof callId !== "string" || callId === ""))
    throw new TypeError("callId must be a non-empty string");
  if (callId !== undefined && callId.length > MAX_CALL_ID)
    throw new TypeError(`callId must be at most ${MAX_CALL_ID} characters`);
  if (context !== undefined && (typeof context !== "object" || context === null))
    throw new TypeError("context must be an object");
  return execute ? { action, target, args, callId, context, execute } : { action, target, args, callId, context };
}

/**
 * Maps a tool call to the check it stands for (`tool_use` + tool name unless `mapping` says
 * otherwise), or to a refusal: a malformed call, an input the adapter could not read, a
 * mapping without an action, a target function that throws or returns a non-string.
 */
export function readToolCall(call: ToolCall): CheckRequest | ToolCallRefusal {
  if (!call || typeof call !== "object") {
    return refusal(
      undefined,
      undefined,
      undefined,
      "invalid_input",
      `a tool call must be an object { toolName, input }, not ${call === null ? "null" : typeof call}`,
    );
  }
  // Own properties only (a polluted Object.prototype must not supply any), read once each, without copying the call.
  const toolName = ownValue(call, "toolName");
  const input = ownValue(call, "input");
  const callId = ownValue(call, "callId");
  const mapping = ownValue(call, "mapping");
  const execute = ownValue(call, "execute") === true;
  if (typeof toolName !== "string" || toolName === "") {
    return refusal(
      undefined,
      undefined,
      undefined,
      "invalid_input",
      "the tool call has no tool name (toolName must be a non-empty string)",
    );
  }
  if (callId !== undefined && (typeof callId !== "string" || callId === "")) {
    return refusal(
      toolName,
      undefined,
      { toolName },
      "invalid_input",
      `tool ${quote(toolName)}: the call id must be a non-empty string, not ${describeValue(callId)}`,
    );
  }
  const context = { ...ownValue(call, "context"), toolName };
  if (callId !== undefined && callId.length > MAX_CALL_ID) {
    // Call ids can come from message history a browser sent: never keep megabytes of one in stores and audits.
    return refusal(
      toolName,
      undefined,
      context,
      "invalid_input",
      `the call id is longer than ${MAX_CALL_ID} characters`,
    );
  }
  const inputError = ownValue(call, "inputError");
  if (inputError !== undefined) {
    return refusal(toolName, callId, context, "invalid_input", `tool ${quote(toolName)}: ${String(inputError)}`);
  }
  const mapped = mapping && Object.prototype.hasOwnProperty.call(mapping, toolName) ? mapping[toolName] : undefined;
  const entry = mapped && typeof mapped === "object" ? ownCopy(mapped) : mapped;
  if (entry === undefined) return { action: "tool_use", target: toolName, args: input, callId, context, execute };
  const action = entry.action;
  if (typeof action !== "string" || action === "") {
    const request = { action: "tool_use", target: toolName, args: input, callId, context };
    return { request, code: "internal_error", reason: `mapping for tool ${quote(toolName)} has no valid action` };
  }
  let target: unknown;
  if (entry.target !== undefined) {
    const request = { action, target: undefined, args: input, callId, context };
    try {
      target = entry.target(input);
    } catch (error) {
      return {
        request,
        code: "invalid_target",
        reason: `mapping for tool ${quote(toolName)}: the target function threw: ${errorText(error)}`,
      };
    }
    if (target !== undefined && typeof target !== "string") {
      const got = target === null ? "null" : typeof target;
      return {
        request,
        code: "invalid_target",
        reason: `mapping for tool ${quote(toolName)}: the target function returned ${got}, not a string`,
      };
    }
  }
  return { action, target: target as string | undefined, args: input, callId, context, execute };
}

/** True for what `readToolCall` returns when the call is refused. */
export function isRefusal(read: CheckRequest | ToolCallRefusal): read is ToolCallRefusal {
  return "request" in read;
}

/** The check an escalation stood for, to audit its settlement. */
export function requestOf(record: EscalationRecord): CheckRequest {
  const r = record.request;
  return { action: r.action, target: r.target, args: r.args, callId: r.callId, context: undefined };
}

function refusal(
  toolName: string | undefined,
  callId: string | undefined,
  context: Record<string, unknown> | undefined,
  code: DecisionCode,
  reason: string,
): ToolCallRefusal {
  return { request: { action: "tool_use", target: toolName, args: undefined, callId, context }, code, reason };
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return "an empty string";
  return `a ${typeof value}`;
}
