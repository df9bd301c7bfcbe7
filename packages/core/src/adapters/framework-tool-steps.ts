import { BoundedMap } from "../gate/bounded-map.js";
import type { Decision } from "../gate/decision.js";
import { recordFrameworkAnswer, recordFrameworkRejection, toolMayEscalate } from "./framework-approval.js";
import type { GateKeeper } from "../gate/gate-keeper.js";
import type { MaybePromise } from "../gate/store.js";
import type { ToolCall, ToolMapping } from "../gate/tool-call.js";
import { parseToolArguments, type ToolArguments } from "./tool-arguments.js";

/** How one tool is gated in a framework that asks "does this call need a human?" before it runs it. */
export interface FrameworkToolStepsOptions {
  toolName: string;
  mapping?: ToolMapping | undefined;
  /**
   * False when the framework's saved run state may come back edited (it went to a client):
   * every check then reads the call's arguments from the state it is given, and the
   * framework's own approvals count for nothing.
   */
  trustedState: boolean;
  /** The tool takes its argument string as is (no parameter schema), rather than parsed JSON. */
  rawInput?: boolean;
}

/** A framework's own answer for a call, seen right before it runs. */
export interface FrameworkApprovalSeen {
  /** True when the framework's state says a human approved this call. */
  approved: boolean;
  /** Who did, from the app; a throw refuses the call. */
  approvedBy?: ((input: unknown) => MaybePromise<string | undefined>) | undefined;
  /** How it was given, e.g. "state.approve()". */
  via: string;
}

/** Call ids each gated tool remembers (inputs, recorded rejections); a paused run that never resumes must not grow them. */
const REMEMBERED_CALLS = 1000;

/**
 * The two steps of a gated tool call in a framework with its own approval step (the OpenAI
 * Agents SDK's `needsApproval` then input guardrail): the approval step asks the gate whether a
 * human is needed, the check right before the tool runs decides, and both present one input
 * per call, so the gate's call records match. A framework approval of a call the gate escalated
 * is recorded in the gate (trusted state only), and a framework rejection too.
 */
export class FrameworkToolSteps {
  readonly gate: GateKeeper;
  readonly toolName: string;
  readonly mapping: ToolMapping | undefined;
  readonly #gate: GateKeeper;
  readonly #options: FrameworkToolStepsOptions;
  /** The input the approval step checked, by call id. */
  readonly #inputs = new BoundedMap<unknown>(REMEMBERED_CALLS);
  readonly #rejected = new BoundedMap<true>(REMEMBERED_CALLS);

  constructor(gate: GateKeeper, options: FrameworkToolStepsOptions) {
    this.gate = this.#gate = gate;
    this.toolName = options.toolName;
    this.mapping = options.mapping;
    this.#options = options;
  }

  /**
   * The framework's approval step, composed with the tool's own rule (`own`): true when a
   * human must answer first. A gate that can never escalate this tool is not asked here (the
   * check before the run decides); a call the gate denies needs no human (that check refuses it).
   */
  async needsHuman(callId: string | undefined, input: unknown, own: () => MaybePromise<boolean>): Promise<boolean> {
    if (callId === undefined) return own();
    const { toolName, mapping } = this.#options;
    const mayEscalate = toolMayEscalate(this.#gate, toolName, mapping);
    if (!mayEscalate && !(await own())) return false;
    const plain = plainCopy(input);
    this.#inputs.set(callId, plain);
    const decision = await this.#gate.checkToolCall({ toolName, input: plain, callId, mapping });
    if (decision.type === "escalate") return !this.#gate.hasApprovalHandler;
    if (decision.type !== "allow") return false;
    return mayEscalate ? own() : true;
  }

  /**
   * The input every check of one call presents: the parsed argument string, or, with a trusted
   * state, the exact value the approval step checked (a schema's defaults and transforms included).
   */
  read(callId: string | undefined, raw: unknown): ToolArguments {
    const { toolName, rawInput, trustedState } = this.#options;
    const parsed = rawInput && typeof raw === "string" ? { input: raw } : parseToolArguments(toolName, raw);
    const seen = trustedState && callId !== undefined && parsed.inputError === undefined;
    const input = seen ? this.#inputs.get(callId) : undefined;
    return input === undefined ? parsed : { input };
  }

  /** The call as the gate checks it, read from a framework's argument string (see {@link read}). */
  toolCall(callId: string | undefined, raw: unknown): ToolCall {
    return { toolName: this.toolName, ...this.read(callId, raw), callId, mapping: this.mapping };
  }

  /**
   * Checks the call right before it runs (`execute`: a call the gate recorded runs once). When
   * the gate escalated it and the framework says a human approved it (trusted state only), the
   * approval is recorded in the gate first. Never rejects.
   */
  check(
    callId: string | undefined,
    raw: unknown,
    execute: boolean,
    framework?: () => FrameworkApprovalSeen,
  ): Promise<Decision> {
    const { toolName, mapping, trustedState } = this.#options;
    const call: ToolCall = { toolName, ...this.read(callId, raw), callId, mapping, execute };
    const checked = this.#gate.checkToolCall(call);
    // Not `async`: the common path (no framework approval to honour) adds no promise of its own.
    if (!trustedState || callId === undefined || framework === undefined) return checked;
    return checked.then((decision) =>
      decision.type === "escalate" ? this.#honour(call, decision, framework) : decision,
    );
  }

  /** A framework approval of an escalated call: recorded in the gate, then the call is checked again. */
  async #honour(call: ToolCall, escalated: Decision, framework: () => FrameworkApprovalSeen): Promise<Decision> {
    let seen: FrameworkApprovalSeen;
    try {
      seen = framework();
    } catch {
      return escalated; // An unreadable framework state approves nothing.
    }
    if (!seen.approved) return escalated;
    const { approvedBy, via } = seen;
    const settled = await recordFrameworkAnswer(this.#gate, escalated, {
      approved: true,
      ...(approvedBy ? { approvedBy: () => approvedBy(call.input) } : {}),
      reason: `approved with ${via}`,
      via,
    });
    return settled.type === "allow" ? this.#gate.checkToolCall(call) : settled;
  }

  /**
   * Records the framework's rejections of these calls (once each): a rejected call is never
   * run, so the framework never comes back to the tool; call this when its state is next seen.
   */
  async recordRejections(
    callIds: readonly unknown[],
    answer: (callId: string) => Omit<FrameworkApprovalSeen, "approved"> & { reason: string },
  ): Promise<void> {
    const { toolName, mapping } = this.#options;
    for (const callId of callIds) {
      if (typeof callId !== "string" || callId === "" || this.#rejected.get(callId)) continue;
      this.#rejected.set(callId, true);
      await recordFrameworkRejection(this.#gate, { toolName, callId, mapping }, (request) => {
        const { reason, via, approvedBy } = answer(callId);
        return { reason, via, ...(approvedBy ? { approvedBy: () => approvedBy(request.args) } : {}) };
      });
    }
  }
}

/** A plain-data copy of a framework's parsed input (the value itself when it is not JSON data). */
function plainCopy(value: unknown): unknown {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? value : JSON.parse(text);
  } catch {
    return value;
  }
}
