import { BoundedMap, errorText } from "@agentgate/core/internal";
import {
  isDeniedToolResult,
  PermissionDeniedError,
  type Decision,
  type GateKeeper,
  type ToolMapping,
} from "@agentgate/core";
import {
  defineToolInputGuardrail,
  ToolGuardrailFunctionOutputFactory,
  type FunctionTool,
  type RunContext,
  type Tool,
  type ToolGuardrailFunctionOutput,
  type ToolInputGuardrailDefinition,
} from "@openai/agents-core";
import { assertDenialFits } from "./denied-output-fit.js";
import { deniedOutputFor, type ToolDenial } from "./denial.js";
import { GATE_LAYERS, gateLayers, type GateLayer } from "./gate-layers.js";
import { approvedInRunState, honourNativeApproval, type NativeApproval } from "./native-approval.js";
import { plainInput, readToolInput } from "./tool-input.js";

export type { NativeApproval } from "./native-approval.js";

/** Options for {@link gateTools}. */
export interface GateToolsOptions {
  /**
   * Maps tool names to actions and targets, exactly as in core's
   * `gate.checkToolCall`. A tool without an entry is `tool_use` with the tool
   * name as target.
   * @example { read_file: { action: "file_read", target: (input) => input.path } }
   */
  mapping?: ToolMapping;
  /**
   * For tools with an `outputSchema`: the value the model receives instead of
   * a result when a call is refused. The SDK validates it against the schema,
   * so it must fit, or the run aborts (the tool still never runs). Without
   * it, the tool's own `errorFunction` is used when it has one (it receives a
   * `PermissionDeniedError`), else core's `deniedToolResult` object.
   */
  deniedOutput?: (denial: ToolDenial) => unknown;
  /**
   * Where the `RunState` lives between a pause and its resume; it decides
   * what an approval given with the SDK's own `state.approve(item)` means
   * for a call the gate escalated.
   *
   * - `"trusted"` (default): the state stays on your server (in memory, or
   *   its string in your own database). A native approval is the human's
   *   answer: the guardrail records it in the gate (`answerEscalation`,
   *   audited, with `approvedBy`) and the call runs once. The SDK's
   *   documented approval loop works unchanged.
   * - `"untrusted"`: the state crosses a trust boundary (its string is sent
   *   to a browser or another party and comes back). Native approvals count
   *   for nothing; only answers recorded in the gate
   *   ({@link resolveGateInterruptions}, `gate.resolveEscalation`) do, so a
   *   forged approval is refused and the model reads why.
   */
  runState?: "trusted" | "untrusted";
  /**
   * Who approved a call through `state.approve(item)` (with a trusted run
   * state): recorded as the decision's `approvedBy`. Usually the signed-in
   * user of the request that resumes the run, read from your run context.
   * A throw refuses the call.
   */
  approvedBy?: (call: NativeApproval) => string | undefined | Promise<string | undefined>;
}

/**
 * The tools `gateTools` accepts: function tools (from `tool()`,
 * `agent.asTool()`, MCP). A list that names a hosted tool (`webSearchTool()`
 * and the like) is a type error; a plain `Tool[]` (e.g. from
 * `getAllMcpTools`) is checked when the tools are gated.
 */
export type GateableTools<T> = [Tool<any>] extends [T]
  ? GateKeeper
  : [T] extends [FunctionTool<any, any, any>]
    ? GateKeeper
    : "gateTools: hosted tools (web search, file search, code interpreter, computer, shell) run outside your process and cannot be gated; leave them out of the list";

/** The name of the input guardrail `gateTools` puts first on every tool. */
export const GATE_GUARDRAIL_NAME = "agentgate";

/**
 * Puts every function tool behind the gate. For each tool it returns a copy
 * (`agent.asTool()` tools are gated in place, see below) with:
 *
 * - an input guardrail that checks the call with `gate.checkToolCall` and
 *   turns anything but ALLOW into `rejectContent`: `execute` never runs and
 *   the model reads the reason;
 * - a `needsApproval` that is true when the gate ESCALATEs (and has no inline
 *   approval handler), so the run pauses with the SDK's own interruptions,
 *   answered with `state.approve(item)` / `state.reject(item)` or with
 *   {@link resolveGateInterruptions}. The tool's own `needsApproval` still
 *   applies to calls the gate allows;
 * - for tools with an `outputSchema`, an `errorFunction` that returns a
 *   schema-fitting fallback (see {@link GateToolsOptions.deniedOutput}); a
 *   zod schema no fallback fits is refused here with a `TypeError`.
 *
 * After an approval the guardrail runs again. The gate lets the call through
 * when it recorded the approval itself, or (with a trusted run state, see
 * {@link GateToolsOptions.runState}) records the `state.approve()` first.
 * A recorded call runs once: a saved state resumed twice is refused.
 *
 * Works for tools from `tool()`, `agent.asTool()` and `getAllMcpTools()`.
 * Agent tools are modified in place, because the SDK finds the sub-agent of
 * an agent tool by the tool object's identity when it resumes an
 * interruption raised inside it; their one run is claimed when they start,
 * so a sub-agent that paused resumes as the same run. Gating a tool twice with the same gate is a
 * no-op; different gates stack (every one must allow).
 * Other tool types (hosted, computer, shell, apply_patch) cannot be gated
 * this way and are refused with a `TypeError` rather than passed through
 * ungated.
 *
 * Do not enable the runner option `toolExecution.preApprovalInputGuardrails`
 * with gated tools: it runs the guardrail before the pause, which then denies
 * escalations instead of pausing (fail closed).
 */
export function gateTools<T extends Tool<any>>(
  tools: readonly T[],
  gate: GateableTools<T>,
  options: GateToolsOptions = {},
): T[] {
  if (!Array.isArray(tools)) throw new TypeError("gateTools: `tools` must be an array of tools");
  if (!gate || typeof (gate as Partial<GateKeeper>).checkToolCall !== "function") {
    throw new TypeError("gateTools: `gate` must be a GateKeeper");
  }
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
    return gateFunctionTool(tool as FunctionTool<any, any, any>, gate as GateKeeper, options) as T;
  });
}

/** How many calls' denials and inputs each gated tool remembers. */
const CALL_MEMO_LIMIT = 1000;

function gateFunctionTool(
  tool: FunctionTool<any, any, any>,
  gate: GateKeeper,
  options: GateToolsOptions,
): FunctionTool<any, any, any> {
  // Gating twice with the same gate adds nothing (and would check each call twice).
  if (gateLayers(tool).some((existing) => existing.gate === gate)) return tool;
  const { mapping, deniedOutput } = options;
  const toolName = tool.name;
  const agentTool = isAgentTool(tool);
  // Keyed by call id; bounded because a paused run that never resumes must not grow them forever.
  const denials = new BoundedMap<ToolDenial>(CALL_MEMO_LIMIT);
  const inputs = new BoundedMap<unknown>(CALL_MEMO_LIMIT);
  const originalNeedsApproval = tool.needsApproval;
  const originalErrorFunction = tool.errorFunction ?? undefined;
  const originalInvoke = tool.invoke;

  // `execute` only on the check right before the tool runs: a recorded call runs once.
  const check = (input: unknown, callId: string | undefined, execute = false): Promise<Decision> =>
    gate.checkToolCall({
      toolName,
      input,
      ...(callId ? { callId } : {}),
      ...(mapping ? { mapping } : {}),
      ...(execute ? { execute } : {}),
    });

  const rejectCall = (denial: ToolDenial): ToolGuardrailFunctionOutput => {
    if (denial.callId) denials.set(denial.callId, denial);
    return ToolGuardrailFunctionOutputFactory.rejectContent(JSON.stringify(deniedOutputFor(denial)), {
      agentgate: denial.decision ?? { type: "deny", code: denial.code, reason: denial.reason },
    });
  };

  /**
   * Reads a call's input: what needsApproval saw for this call id, else the
   * parsed argument string. Arguments the SDK blanked (they failed its own
   * schema validation) are refused whatever needsApproval saw.
   */
  const inputOf = (callId: string | undefined, rawArguments: unknown) => {
    const read = readToolInput(tool, rawArguments);
    const seen = callId ? inputs.get(callId) : undefined;
    return read.ok && seen !== undefined ? ({ ok: true, input: seen } as const) : read;
  };

  const guardrail: ToolInputGuardrailDefinition<any> = defineToolInputGuardrail({
    name: GATE_GUARDRAIL_NAME,
    run: async ({ context, toolCall }) => {
      const callId = typeof toolCall?.callId === "string" ? toolCall.callId : undefined;
      // checkToolCall never rejects: every failure comes back as an audited DENY.
      const read = inputOf(callId, toolCall?.arguments);
      if (!read.ok) {
        // Recorded by the gate (audited), then refused.
        const refused = await gate.checkToolCall({
          toolName,
          input: toolCall?.arguments,
          ...(callId ? { callId } : {}),
          inputError: read.reason,
        });
        return rejectCall({
          toolName,
          ...(callId ? { callId } : {}),
          reason: refused.reason,
          code: "invalid_arguments",
          decision: refused,
        });
      }
      // Agent tools claim their one run in `invoke`, where a resumed nested run can be told from a replay.
      const execute = !agentTool;
      let decision = await check(read.input, callId, execute);
      if (decision.type === "escalate" && callId && approvedInRunState(context, toolName, callId)) {
        decision = await honourNativeApproval(
          gate,
          options,
          { toolName, callId, input: read.input, runContext: context },
          decision,
          () => check(read.input, callId, execute),
        );
      }
      if (decision.type === "allow") return ToolGuardrailFunctionOutputFactory.allow({ agentgate: decision });
      return rejectCall({ toolName, ...(callId ? { callId } : {}), reason: refusalReason(decision), decision });
    },
  });

  const needsApproval = async (runContext: RunContext<any>, input: unknown, callId?: string): Promise<boolean> => {
    if (callId) {
      const plain = plainInput(input);
      if (plain !== undefined) inputs.set(callId, plain);
      const decision = await check(plain ?? input, callId);
      if (decision.type === "escalate") return !gate.hasApprovalHandler;
      // A denied call needs no human: the guardrail refuses it.
      if (decision.type !== "allow") return false;
    }
    return originalNeedsApproval ? originalNeedsApproval(runContext, input as never, callId) : false;
  };

  const layer: GateLayer = { gate, mapping, tool: { ...tool }, inputs };
  // Agent tools are gated in place: the SDK links an `agent.asTool()` tool to
  // its agent by object identity, and resuming an interruption raised inside
  // the sub-agent needs that link. Every other tool is copied; the spread
  // keeps `invoke` (the SDK keys the input parser and MCP binding on it) and
  // the symbol-keyed metadata (output validator, namespace).
  const gated = (agentTool ? tool : { ...tool }) as FunctionTool<any, any, any> & {
    [GATE_LAYERS]?: readonly GateLayer[];
  };
  gated.needsApproval = needsApproval;
  gated.inputGuardrails = [guardrail, ...(tool.inputGuardrails ?? [])];
  gated[GATE_LAYERS] = [...gateLayers(tool), layer];

  if (agentTool) {
    // A paused sub-agent resumes by invoking its agent tool again with the
    // saved nested run (`details.resumeState`): that is the same run going
    // on, not a second one. Any other invocation claims the call's one run,
    // so a replayed state that starts the sub-agent again is refused.
    gated.invoke = async (runContext, input, details) => {
      const resumeState = (details as { resumeState?: unknown } | undefined)?.resumeState;
      if (typeof resumeState === "string" && resumeState !== "") return originalInvoke(runContext, input, details);
      const callId = details?.toolCall?.callId;
      const read = inputOf(callId, input);
      const decision = read.ok
        ? await check(read.input, callId, true)
        : await gate.checkToolCall({ toolName, input, ...(callId ? { callId } : {}), inputError: read.reason });
      if (decision.type === "allow") return originalInvoke(runContext, input, details);
      return JSON.stringify(
        deniedOutputFor({ toolName, ...(callId ? { callId } : {}), reason: decision.reason, decision }),
      );
    };
  }

  if (tool.outputSchema !== undefined) {
    // Without an errorFunction the SDK throws on `rejectContent` for schema
    // tools, and it validates what this returns against the schema.
    gated.errorFunction = async (runContext, error, details) => {
      const callId = details?.toolCall?.callId;
      const denial: ToolDenial = (callId ? denials.take(callId) : undefined) ?? {
        toolName,
        ...(callId ? { callId } : {}),
        // A rejection from resolveGateInterruptions arrives as the JSON message it set.
        reason: deniedPayloadIn(error)?.reason ?? errorText(error),
        code: "not_executed",
        error,
      };
      if (deniedOutput) return deniedOutput({ ...denial, error });
      if (originalErrorFunction) {
        const cause = denial.decision ? new PermissionDeniedError(denial.decision) : error;
        return originalErrorFunction(runContext, cause, details);
      }
      return deniedOutputFor(denial);
    };
  }
  return gated;
}

function refusalReason(decision: Decision): string {
  return decision.type === "escalate"
    ? `${decision.reason} (a human must approve this call and AgentGate has no recorded approval for it)`
    : decision.reason;
}

/** Reads back the `deniedToolResult` JSON this package uses as a rejection message. */
function deniedPayloadIn(error: unknown): { reason: string } | undefined {
  const message = error instanceof Error ? error.message : undefined;
  if (!message?.startsWith("{")) return undefined;
  try {
    const payload: unknown = JSON.parse(message);
    return isDeniedToolResult(payload) ? payload : undefined;
  } catch {
    return undefined;
  }
}

/** `agent.asTool()` tools are the SDK's only function tools with an `on(event, handler)` method. */
function isAgentTool(tool: FunctionTool<any, any, any>): boolean {
  return typeof (tool as { on?: unknown }).on === "function";
}
