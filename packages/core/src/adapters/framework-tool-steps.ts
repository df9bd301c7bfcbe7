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
  /** How to read the human's answers a framework run holds (see {@link approvedIn}, {@link recordRejectionsIn}). */
  answers?: FrameworkAnswers<any>;
}

/**
 * Reads the human's answers one framework run holds (e.g. the OpenAI Agents SDK's run context,
 * written by `state.approve(item)` / `state.reject(item)`) for this tool. May throw: nothing is read then.
 */
export interface FrameworkAnswers<Run extends object> {
  /** True approved, false rejected, undefined unanswered; a tool-wide answer counts for every id. */
  answer(run: Run, toolName: string, callId: string): boolean | undefined;
  /** The message a rejection of the call carries. */
  rejectionMessage(run: Run, toolName: string, callId: string): unknown;
  /** Every rejected call the run's state names, with its message (read only while a restored run has not moved on). */
  rejectedIds(run: Run, toolName: string): Iterable<readonly [callId: unknown, message: unknown]>;
  /** How far the run has got (e.g. its model requests): 0 before it starts, and it grows once it moves on. */
  progress(run: Run): number;
}

/** A tool's own "does this call need a human?" rule, called with the framework's run, the input and the call id. */
export type OwnRule<Run> = (run: Run, input: unknown, callId: string | undefined) => MaybePromise<boolean>;

/** No call has this id: an answer for it is tool-wide ("always approve / reject this tool"). */
const NO_SUCH_CALL = "\u0000agentgate:no-such-call";

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
  /** Per framework run (its run context): the calls the approval step sent to a human. */
  readonly #asked = new WeakMap<object, Set<string>>();
  readonly #seen = new WeakSet<object>();
  /** Runs first seen already under way (restored from a saved state), with their progress then. */
  readonly #restoredAt = new WeakMap<object, number>();

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
   * `run` (e.g. the framework's run context) remembers the calls sent to a human, see {@link approvedIn}.
   * `own` is called as `own(run, input, callId)`, the framework's own signature, so the tool's rule
   * can be passed as is (no closure per call).
   */
  needsHuman<Run extends object>(
    callId: string | undefined,
    input: unknown,
    own: OwnRule<Run>,
    run?: Run,
  ): Promise<boolean> {
    // Not `async` (one `then` rather than two async frames), but a throw still rejects.
    try {
      if (callId === undefined) return Promise.resolve(own(run as Run, input, callId)).then(Boolean);
      const { toolName, mapping } = this.#options;
      if (toolMayEscalate(this.#gate, toolName, mapping)) return this.#askGate(callId, input, own, true, run);
      // The gate can never escalate this tool (the usual case): only the tool's own rule can ask for
      // a human, and the gate is asked only then.
      return Promise.resolve(own(run as Run, input, callId)).then((human) =>
        human ? this.#askGate(callId, input, own, false, run) : false,
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The run's answer for a call (see {@link FrameworkAnswers.answer}); undefined when unreadable. */
  answerIn(run: object, callId: string): boolean | undefined {
    try {
      return this.#options.answers?.answer(run, this.toolName, callId);
    } catch {
      return undefined;
    }
  }

  /**
   * True when the run holds a human's approval of this call: its own, or a tool-wide one given
   * while the run had asked a human about this call. A tool-wide approval never answers the gate
   * for a call no human was shown.
   */
  approvedIn(run: object, callId: string): boolean {
    if (this.answerIn(run, callId) !== true) return false;
    return this.answerIn(run, NO_SUCH_CALL) !== true || this.#asked.get(run)?.has(callId) === true;
  }

  /**
   * Records the rejections a framework run holds (see {@link recordRejections}), read with the
   * `answers` option; `who` names who answered (given the run: one function per tool, no closure
   * per call). Undefined (nothing to wait for) when nothing is new.
   */
  recordRejectionsIn<Run extends object>(
    run: Run,
    via: string,
    who?: (callId: string, run: Run) => FrameworkApprovalSeen["approvedBy"],
  ): Promise<void> | undefined {
    const rejected = this.#rejectedIn(run);
    if (rejected === undefined || rejected.length === 0) return undefined;
    const messages = new Map(rejected);
    return this.recordRejections([...messages.keys()], (callId) => {
      const message = messages.get(callId);
      const reason = typeof message === "string" && message !== "" ? message : `rejected with ${via}`;
      return { reason, via, approvedBy: who?.(callId, run) };
    });
  }

  /**
   * The run's rejected calls with their messages. Only the calls it asked a human about are
   * looked up (a tool-wide rejection counts for those), so a run with nothing pending reads
   * nothing and allocates nothing.
   */
  #rejectedIn(run: object): (readonly [callId: unknown, message: unknown])[] | undefined {
    const answers = this.#options.answers;
    if (answers === undefined) return undefined;
    let found: (readonly [unknown, unknown])[] | undefined;
    try {
      // A run first seen before it started holds only answers to calls it asks about; one restored
      // from a saved state (its answers given elsewhere, or after it was restored) is read whole
      // until it moves on.
      if (!this.#seen.has(run)) {
        this.#seen.add(run);
        const progress = answers.progress(run);
        if (progress > 0) this.#restoredAt.set(run, progress);
      }
      const restoredAt = this.#restoredAt.get(run);
      if (restoredAt !== undefined && answers.progress(run) !== restoredAt) this.#restoredAt.delete(run);
      else if (restoredAt !== undefined) found = [...answers.rejectedIds(run, this.toolName)];
      const asked = this.#asked.get(run);
      if (asked === undefined) return found;
      for (const callId of asked) {
        if (answers.answer(run, this.toolName, callId) !== false) continue;
        asked.delete(callId);
        (found ??= []).push([callId, answers.rejectionMessage(run, this.toolName, callId)]);
      }
    } catch {
      // What could not be read records nothing; the framework still never runs a rejected call.
    }
    return found;
  }

  /** Asks the gate whether a human must answer (a call it denies needs none: the check before the run refuses it). */
  async #askGate<Run extends object>(
    callId: string,
    input: unknown,
    own: OwnRule<Run>,
    mayEscalate: boolean,
    run: Run | undefined,
  ): Promise<boolean> {
    const { toolName, mapping } = this.#options;
    const plain = plainCopy(input);
    this.#inputs.set(callId, plain);
    const decision = await this.#gate.checkToolCall({ toolName, input: plain, callId, mapping });
    const human =
      decision.type === "escalate"
        ? !this.#gate.hasApprovalHandler
        : decision.type === "allow" && (mayEscalate ? await own(run as Run, input, callId) : true);
    if (human && run !== undefined) {
      const asked = this.#asked.get(run);
      if (asked === undefined) this.#asked.set(run, new Set([callId]));
      else asked.add(callId);
    }
    return human;
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
   * approval is recorded in the gate first. Never rejects (unless `shape` throws).
   *
   * `shape` turns the final decision into what the caller returns, in the same callback (one
   * promise hop fewer per call than a `then` of the caller's own).
   */
  check<R = Decision>(
    callId: string | undefined,
    raw: unknown,
    execute: boolean,
    framework?: () => FrameworkApprovalSeen,
    shape?: (decision: Decision) => R,
  ): Promise<R> {
    const { toolName, mapping, trustedState } = this.#options;
    const { input, inputError } = this.read(callId, raw);
    // One literal in a fixed shape rather than a spread (an `inputError` left undefined is none).
    const call: ToolCall = { toolName, input, inputError, callId, mapping, execute };
    const checked = this.#gate.checkToolCall(call);
    const done = (shape ?? same) as (decision: Decision) => R;
    // Not `async`: the common path (no framework approval to honour) adds no promise of its own.
    if (!trustedState || callId === undefined || framework === undefined)
      return shape === undefined ? (checked as Promise<R>) : checked.then(done);
    return checked.then((decision) =>
      decision.type === "escalate" ? this.#honour(call, decision, framework).then(done) : done(decision),
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

const same = (decision: Decision) => decision;

/** A plain-data copy of a framework's parsed input (the value itself when it is not JSON data). */
function plainCopy(value: unknown): unknown {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? value : JSON.parse(text);
  } catch {
    return value;
  }
}
