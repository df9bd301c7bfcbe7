import type { Decision } from "../gate/decision.js";
import type { GateKeeper } from "../gate/gate-keeper.js";
import { MAX_CALL_ID } from "../gate/tool-call.js";

/** What one call id produced, as the model reads it. Settled in place, so a waiter sees the final state. */
export interface ToolOutputEntry {
  /** Tool name and raw argument text (undefined when not text): a call id never carries over to another input. */
  readonly toolName: string;
  readonly args: string | undefined;
  /** `ran` and `failed` are final (the function was called once); anything else is decided again on a repeat. */
  status: "running" | "ran" | "denied" | "escalated" | "failed";
  decision?: Decision;
  /** The text the model reads for this call. */
  output?: string;
  /** Callers waiting for a running entry (made only when a concurrent repeat arrives). */
  waiters?: (() => void)[];
}

/** Call ids kept per generation: a ledger remembers at least the last this many (memory allowing). */
export const TOOL_OUTPUT_LIMIT = 10_000;
/** Characters of ids, arguments and outputs kept in all (about 64 MB). */
export const TOOL_OUTPUT_CHARS = 32 * 1024 * 1024;

/**
 * The tool calls an adapter ran or refused for one gate, in this process: it makes each call id
 * run once and tells tool results the adapter produced from forged ones. Bounded in two
 * generations (a full current generation becomes the previous one, the older one is dropped),
 * so every operation is O(1) and a dropped call id is simply decided by the gate again.
 */
export class ToolOutputLedger {
  #current = new Map<string, ToolOutputEntry>();
  #previous = new Map<string, ToolOutputEntry>();
  #chars = 0;
  readonly #limit: number;
  readonly #maxChars: number;

  constructor(limit = TOOL_OUTPUT_LIMIT, maxChars = TOOL_OUTPUT_CHARS) {
    this.#limit = limit;
    // Two generations are alive at once: each gets half the characters.
    this.#maxChars = maxChars / 2;
  }

  get(callId: string): ToolOutputEntry | undefined {
    return this.#current.get(callId) ?? this.#previous.get(callId);
  }

  /** Records that `callId` is about to be decided and run with this input; a concurrent repeat waits for it. */
  claim(callId: string, toolName: string, args?: string): ToolOutputEntry {
    if (this.#current.size >= this.#limit || this.#chars >= this.#maxChars) {
      this.#previous = this.#current;
      this.#current = new Map();
      this.#chars = 0;
    }
    // The caller's own strings are kept (no concatenated fingerprint): one object per call, nothing copied.
    const entry: ToolOutputEntry = { toolName, args, status: "running", decision: undefined, output: undefined };
    this.#current.set(callId, entry);
    this.#chars += callId.length + toolName.length + (args === undefined ? 0 : args.length);
    return entry;
  }

  /** Stores how a claimed call ended and wakes the callers waiting for it. */
  settle(entry: ToolOutputEntry, status: ToolOutputEntry["status"], decision: Decision, output: string): void {
    entry.status = status;
    entry.decision = decision;
    entry.output = output;
    this.#chars += output.length;
    const waiters = entry.waiters;
    if (waiters !== undefined) {
      entry.waiters = undefined;
      for (const wake of waiters) wake();
    }
  }

  /** Resolves once a running entry is settled. */
  wait(entry: ToolOutputEntry): Promise<void> {
    return new Promise((resolve) => (entry.waiters ??= []).push(resolve));
  }
}

const ledgers = new WeakMap<GateKeeper, ToolOutputLedger>();

/** The ledger of one gate, shared by every adapter entry point that runs tools for it. */
export function toolOutputLedgerOf(gate: GateKeeper): ToolOutputLedger {
  let ledger = ledgers.get(gate);
  if (ledger === undefined) {
    ledger = new ToolOutputLedger();
    ledgers.set(gate, ledger);
  }
  return ledger;
}

/**
 * Checks a tool result found in a message history against what this gate's adapter produced
 * for its call id. A result for a call that never ran here, or with other text, is forged: it
 * is audited as a DENY (`invalid_input`), returned with the reason. Undefined for a genuine result.
 */
export async function verifyToolOutput(
  gate: GateKeeper,
  toolName: string,
  callId: string | undefined,
  output: unknown,
): Promise<{ reason: string; decision: Decision } | undefined> {
  const entry = callId === undefined ? undefined : toolOutputLedgerOf(gate).get(callId);
  let why: string | undefined;
  if (entry === undefined || entry.status === "running")
    why = `no gated call produced a result for call id ${JSON.stringify(callId ?? null)}`;
  else if (typeof output !== "string" || output !== entry.output)
    why = `the result for call id ${JSON.stringify(callId)} is not the one the gated call produced`;
  if (why === undefined) return undefined;
  const reason = `forged tool result refused: ${why}`;
  // Audited like any other decision; an id too long to record is left out of the audit.
  const decision = await gate.checkToolCall({
    toolName,
    input: undefined,
    inputError: reason,
    ...(callId !== undefined && callId.length <= MAX_CALL_ID ? { callId } : {}),
  });
  return { reason, decision };
}
