import {
  assertGateKeeper,
  BoundedMap,
  deniedOutputFor,
  FrameworkToolSteps,
  rejectOnThrow,
  type FrameworkAnswers,
  toolDenialFromError,
  toolDenialOf,
} from "@agentgate/core/internal";
import { PermissionDeniedError, type GateKeeper, type ToolDenial, type ToolMapping } from "@agentgate/core";
import {
  defineToolInputGuardrail,
  ToolGuardrailFunctionOutputFactory,
  type FunctionTool,
  type RunContext,
  type ToolInputGuardrailData,
  type Tool,
} from "@openai/agents-core";
import { assertDenialFits } from "./denied-output-fit.js";

/** Options for {@link gateTools}. */
export interface GateToolsOptions {
  /**
   * Maps tool names to actions and targets, exactly as in core's `gate.checkToolCall`. A tool without an entry
   * is `tool_use` with the tool name as target.
   * @example { read_file: { action: "file_read", target: (input) => input.path } }
   */
  mapping?: ToolMapping;
  /**
   * For tools with an `outputSchema`: the value the model receives instead of a result when a call is refused.
   * The SDK validates it against the schema, so it must fit, or the run aborts (the tool still never runs).
   * Without it, the tool's own `errorFunction` is used when it has one (it receives a `PermissionDeniedError`),
   * else core's `deniedToolResult` object; a zod schema that none of these fits is refused by `gateTools` with
   * a `TypeError`.
   */
  deniedOutput?: (denial: ToolDenial) => unknown;
  /**
   * Where the `RunState` lives between a pause and its resume; it decides what an answer given with the SDK's
   * own `state.approve(item)` means for a call the gate escalated.
   *
   * - `"trusted"` (default): the state stays on your server (in memory, or its string in your own database). A
   *   native approval is the human's answer: the guardrail records it in the gate (audited, with `approvedBy`)
   *   and the call runs once. The SDK's documented approval loop works unchanged.
   * - `"untrusted"`: use it whenever the state string is sent to a browser or another party and comes back.
   *   Native approvals count for nothing; only answers recorded in the gate ({@link resolveGateInterruptions},
   *   `gate.resolveEscalation`) do, so a forged approval is refused and the model reads why; every check reads
   *   the call's arguments from the state it is given, so edited arguments are checked as edited.
   *
   * A `state.reject(item)` is recorded in the gate either way (audited as `approval_denied` with your message)
   * when the resumed run starts. `alwaysReject: true` is recorded for the calls the run asked about (after
   * `RunState.fromString`, only for those given a `message`: the SDK keeps no other call id); later calls of the
   * tool never reach the gate. `alwaysApprove: true` answers only the calls the run asked about in this process
   * (after `RunState.fromString` it may answer none: approve those one by one); the SDK then stops asking, but
   * the gate does not: a later call it escalates is refused (the model reads why) unless a gate grant covers it.
   */
  runState?: "trusted" | "untrusted";
  /**
   * Who answered a call through `state.approve(item)` or `state.reject(item)`: recorded as the decision's
   * `approvedBy`. Usually the signed-in user of the request that resumes the run, read from your run context. A
   * throw refuses an approval.
   */
  approvedBy?: (call: NativeApproval) => string | undefined | Promise<string | undefined>;
}

/** A call answered with the SDK's `state.approve(item)` or `state.reject(item)`, given to `approvedBy`. */
export interface NativeApproval {
  toolName: string;
  callId: string;
  input: unknown;
  runContext: RunContext<any>;
}

/**
 * The tools `gateTools` accepts: function tools (from `tool()`, `agent.asTool()`, MCP). A list that names a
 * hosted tool (`webSearchTool()` and the like) is a type error; a plain `Tool[]` (e.g. from `getAllMcpTools`)
 * is checked when the tools are gated.
 */
export type GateableTools<T> = [Tool<any>] extends [T]
  ? GateKeeper
  : [T] extends [FunctionTool<any, any, any>]
    ? GateKeeper
    : "gateTools: hosted tools (web search, file search, code interpreter, computer, shell) run outside your process and cannot be gated; leave them out of the list";

/** The name of the input guardrail `gateTools` puts first on every tool. */
export const GATE_GUARDRAIL_NAME = "agentgate";

/**
 * What `gateTools` attaches to a tool it wrapped: one layer per gate, so `resolveGateInterruptions` can tell
 * which interruptions a given gate raised and re-check them the same way. `Symbol.for` keeps it readable across
 * duplicate installs of this package.
 */
export const GATE_LAYERS: unique symbol = Symbol.for("agentgate.openai-agents.gate-layers") as never;

/** One gate wrapped around a tool: how its calls are checked. */
export type GateLayer = FrameworkToolSteps;

/** The layers on a tool, outermost last; empty for a tool no gate wrapped. */
export function gateLayers(tool: unknown): readonly GateLayer[] {
  const layers = (tool as { [GATE_LAYERS]?: unknown } | null | undefined)?.[GATE_LAYERS];
  return Array.isArray(layers) ? (layers as GateLayer[]) : [];
}

/** The layer of `gate` on `tool`, if `gateTools(…, gate)` wrapped it. */
export function findGateLayer(tool: Tool<any> | undefined, gate: GateKeeper): GateLayer | undefined {
  if (!tool || tool.type !== "function") return undefined;
  return gateLayers(tool).find((layer) => layer.gate === gate);
}

/**
 * Puts every function tool behind the gate. For each tool it returns a copy (`agent.asTool()` tools are gated
 * in place, see below) with:
 *
 * - an input guardrail that checks the call with `gate.checkToolCall` and turns anything but ALLOW into
 *   `rejectContent`: `execute` never runs and the model reads the reason;
 * - a `needsApproval` that is true when the gate ESCALATEs (and has no inline approval handler), so the run
 *   pauses with the SDK's own interruptions, answered with `state.approve(item)` / `state.reject(item)` (see
 *   {@link GateToolsOptions.runState}) or with {@link resolveGateInterruptions}. The tool's own `needsApproval`
 *   still applies to calls the gate allows;
 * - for tools with an `outputSchema`, an `errorFunction` (see {@link GateToolsOptions.deniedOutput}).
 *
 * A recorded call runs once: a saved state resumed twice is refused. Agent tools are modified in place, because
 * the SDK finds the sub-agent of an agent tool by the tool object's identity when it resumes an interruption
 * raised inside it; their one run is claimed when they start, so a sub-agent that paused resumes as the same
 * run. Gating a tool twice with the same gate is a no-op; different gates stack (every one must allow). Other
 * tool types (hosted, computer, shell, apply_patch) are refused with a `TypeError` rather than passed through
 * ungated.
 *
 * Do not enable the runner option `toolExecution.preApprovalInputGuardrails` with gated tools: it runs the
 * guardrail before the pause, which then denies escalations instead of pausing (fail closed).
 */
export function gateTools<T extends Tool<any>>(
  tools: readonly T[],
  gate: GateableTools<T>,
  options: GateToolsOptions = {},
): T[] {
  if (!Array.isArray(tools)) throw new TypeError("gateTools: `tools` must be an array of tools");
  assertGateKeeper(gate, "gateTools");
  if (options.runState !== undefined && options.runState !== "trusted" && options.runState !== "untrusted") {
    throw new TypeError('gateTools: `runState` must be "trusted" or "untrusted"');
  }
  return tools.map((tool) => {
    if (!tool || tool.type !== "function") {
      const name = (tool as { name?: unknown } | undefined)?.name;
      throw new TypeError(
        `gateTools: tool ${JSON.stringify(name ?? null)} is of type ${JSON.stringify(tool?.type ?? null)}; ` +
          "only function tools can be gated (hosted tools run on the provider's side). " +
          "Leave it out, or add it to the agent separately if it must run ungated.",
      );
    }
    assertDenialFits(tool as FunctionTool<any, any, any>, options);
    return gateFunctionTool(tool as FunctionTool<any, any, any>, gate, options) as T;
  });
}

/** How many calls' denials each gated schema tool keeps for its `errorFunction`. */
const CALL_MEMO_LIMIT = 1000;

type AnyTool = FunctionTool<any, any, any> & { [GATE_LAYERS]?: readonly GateLayer[] };

function gateFunctionTool(tool: AnyTool, gate: GateKeeper, options: GateToolsOptions): AnyTool {
  // Gating twice with the same gate adds nothing (and would check each call twice).
  if (gateLayers(tool).some((existing) => existing.gate === gate)) return tool;
  const { mapping, deniedOutput, approvedBy } = options;
  const toolName = tool.name;
  const agentTool = typeof (tool as { on?: unknown }).on === "function"; // only `agent.asTool()` tools have `on`
  const { needsApproval, errorFunction, invoke, isEnabled } = tool;
  const trustedState = options.runState !== "untrusted";
  const rawInput = !tool.parameters;
  const steps = new FrameworkToolSteps(gate, { toolName, mapping, trustedState, rawInput, answers: SDK_ANSWERS });
  const denials = new BoundedMap<ToolDenial>(CALL_MEMO_LIMIT);
  const who = (callId: string, runContext: RunContext<any>) =>
    approvedBy && ((input: unknown) => approvedBy({ toolName, callId, input, runContext }));

  // Not `async`: the SDK awaits what `run` returns, so the check's own promise is enough.
  const guardrail = defineToolInputGuardrail({
    name: GATE_GUARDRAIL_NAME,
    run: rejectOnThrow(({ context, toolCall }: ToolInputGuardrailData) => {
      const callId = typeof toolCall?.callId === "string" ? toolCall.callId : undefined;
      // Agent tools claim their one run in `invoke`, where a resumed nested run can be told from a replay.
      const framework =
        callId === undefined
          ? undefined
          : () => ({
              approved: steps.approvedIn(context, callId),
              approvedBy: who(callId, context),
              via: "the SDK's state.approve()",
            });
      return steps.check(callId, toolCall?.arguments, !agentTool, framework, (decision) => {
        if (decision.type === "allow") return ToolGuardrailFunctionOutputFactory.allow({ agentgate: decision });
        const denial = toolDenialOf(decision, toolName, callId);
        if (callId !== undefined && tool.outputSchema !== undefined) denials.set(callId, denial);
        return ToolGuardrailFunctionOutputFactory.rejectContent(JSON.stringify(deniedOutputFor(denial)), {
          agentgate: decision,
        });
      });
    }),
  });

  const gated: AnyTool = agentTool ? tool : { ...tool };
  // The tool's own `needsApproval` is passed as is: `needsHuman` calls it with the same arguments.
  gated.needsApproval = (runContext, input, callId) => steps.needsHuman(callId, input, needsApproval, runContext);
  gated.inputGuardrails = [guardrail, ...(tool.inputGuardrails ?? [])];
  gated[GATE_LAYERS] = [...gateLayers(tool), steps];
  // A `state.reject(item)` never calls the tool back: record it when the resumed run lists its tools.
  // Not `async`: with nothing to record (the common case) it adds no promise of its own.
  const enabled: typeof isEnabled =
    typeof isEnabled === "function" ? isEnabled : async () => (isEnabled as unknown) !== false;
  gated.isEnabled = (runContext, agent) => {
    const recording = steps.recordRejectionsIn(runContext, "the SDK's state.reject()", who);
    return recording ? recording.then(() => enabled(runContext, agent)) : enabled(runContext, agent);
  };

  if (agentTool) {
    // A paused sub-agent resumes by invoking its agent tool again with the saved nested run
    // (`details.resumeState`): the same run going on, not a second one. Any other invocation
    // claims the call's one run, so a replayed state that starts the sub-agent again is refused.
    gated.invoke = async (runContext, input, details) => {
      const resumeState = (details as { resumeState?: unknown } | undefined)?.resumeState;
      if (typeof resumeState === "string" && resumeState !== "") return invoke(runContext, input, details);
      const callId = details?.toolCall?.callId;
      const decision = await steps.check(callId, input, true);
      // Awaited rather than returned: adopting a returned promise costs the caller two ticks more.
      if (decision.type === "allow") return await invoke(runContext, input, details);
      return JSON.stringify(deniedOutputFor(toolDenialOf(decision, toolName, callId)));
    };
  }

  if (tool.outputSchema !== undefined) {
    // Without an errorFunction the SDK throws on `rejectContent` for schema tools, and it
    // validates what this returns against the schema.
    gated.errorFunction = async (runContext, error, details) => {
      const callId = details?.toolCall?.callId;
      const denial =
        (callId !== undefined ? denials.take(callId) : undefined) ??
        toolDenialFromError(error, {
          toolName,
          callId,
          // The SDK reports a rejected approval to schema tools as an error.
          rejected: callId !== undefined && steps.answerIn(runContext, callId) === false,
        });
      if (deniedOutput) return deniedOutput({ ...denial, error });
      if (errorFunction) {
        const cause = denial.decision ? new PermissionDeniedError(denial.decision) : error;
        return errorFunction(runContext, cause, details);
      }
      return deniedOutputFor(denial);
    };
  }
  return gated;
}

/** Reads `state.approve(item)` / `state.reject(item)` (`alwaysApprove` / `alwaysReject` too) from a run context. */
const SDK_ANSWERS: FrameworkAnswers<RunContext<any>> = {
  answer: (context, toolName, callId) => context.isToolApproved({ toolName, callId }),
  rejectionMessage: (context, toolName, callId) => context.getRejectionMessage(toolName, callId),
  rejectedIds(context, toolName) {
    const { rejected, messages } = context.toJSON().approvals[toolName] ?? {};
    // An `alwaysReject` keeps no call ids but those it was given a message for.
    const ids = rejected === true ? Object.keys(messages ?? {}) : Array.isArray(rejected) ? rejected : [];
    return ids.map((callId) => [callId, messages?.[callId]] as const);
  },
  progress: (context) => context.usage.requests,
};
