import type { GateKeeper } from "../gate/gate-keeper.js";

/** Input every conformance tool takes. */
export type ConformanceInput = { service: string };

/** The tool call the scripted model makes in one scenario. */
export interface ConformanceCall {
  toolName: string;
  input: ConformanceInput;
  callId: string;
}

/**
 * The tools a driver must expose to its framework, all with input
 * `{ service: string }`: `search` (allowed), `shell` (denied), `deploy` and
 * `rollback` (need a human). `run` is the tool body: call it from the
 * framework tool's execute function and return its text.
 */
export interface ConformanceTools {
  readonly names: readonly ["search", "shell", "deploy", "rollback"];
  run(toolName: string, input: ConformanceInput): string;
}

/** A human's answer, given through the framework's native approval protocol. */
export interface ConformanceAnswer {
  approved: boolean;
  approvedBy: string;
  reason?: string;
}

/** An edit of the saved state or history between the pause and the resume. */
export type ConformanceTamper =
  | { kind: "input"; input: ConformanceInput }
  | { kind: "tool"; toolName: string }
  | { kind: "callId"; callId: string };

/** What one turn of the loop left behind. */
export interface AdapterTurn {
  /** The text the model was given as the result of the call, or undefined when it was given none. */
  seen: string | undefined;
  /** Set when the call paused for a human: pass it back to `resume` (possibly twice, for a replay). */
  paused?: unknown;
}

/** Scenario ids of {@link runAdapterConformance}, for {@link AdapterDriver.unsupported}. */
export type AdapterScenario =
  | "allowed"
  | "denied"
  | "approve"
  | "reject"
  | "call_mismatch"
  | "swapped_tool"
  | "moved_approval"
  | "self_approval"
  | "expired_approval"
  | "huge_call_id"
  | "replay"
  | "store_down";

/** Arguments of {@link AdapterDriver.run}. */
export interface RunArgs {
  gate: GateKeeper;
  tools: ConformanceTools;
  call: ConformanceCall;
}

/** Arguments of {@link AdapterDriver.resume}. */
export interface ResumeArgs {
  gate: GateKeeper;
  tools: ConformanceTools;
  paused: unknown;
  answer: ConformanceAnswer;
  tamper?: ConformanceTamper;
  /**
   * Call it after the answer is recorded and before the loop continues (the
   * suite moves the clock there). Where answering and continuing are one step,
   * call it just before that step.
   */
  beforeContinue?: () => void;
}

/**
 * How one adapter runs a tool call through its framework's real loop, with the
 * framework's offline test model. The driver translates; the suite asserts.
 */
export interface AdapterDriver {
  name: string;
  /** One turn in which the model calls `call` once, then finishes. */
  run(args: RunArgs): Promise<AdapterTurn>;
  /**
   * Answers a paused call the way the framework's users do, optionally after
   * `tamper` edited the saved state or history, then continues the loop (the
   * model only finishes). Called twice with one `paused` value, it must replay
   * the same saved state.
   */
  resume(args: ResumeArgs): Promise<AdapterTurn>;
  /** Scenarios this framework cannot express, each with the reason (shown as a skipped test). */
  unsupported?: Partial<Record<AdapterScenario, string>>;
  /** Timeout of each scenario in ms. Default 20 000. */
  timeoutMs?: number;
}
