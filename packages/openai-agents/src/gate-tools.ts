import { PermissionDeniedError, type Decision, type GateKeeper, type ToolMapping } from "@agentgate/core";
import {
  defineToolInputGuardrail,
  ToolGuardrailFunctionOutputFactory,
  type FunctionTool,
  type RunContext,
  type Tool,
  type ToolGuardrailFunctionOutput,
  type ToolInputGuardrailDefinition,
} from "@openai/agents-core";
import { CallMemo } from "./call-memo.js";
import { deniedOutputFor, type ToolDenial } from "./denial.js";
import { GATE_LAYERS, gateLayers, type GateLayer } from "./gate-layers.js";
import { errorMessage, readToolInput } from "./tool-input.js";

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
}

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
 *   approval handler), so the run pauses with the SDK's own interruptions;
 *   resolve them with {@link resolveGateInterruptions}. The tool's own
 *   `needsApproval` still applies to calls the gate allows;
 * - for tools with an `outputSchema`, an `errorFunction` that returns a
 *   schema-fitting fallback (see {@link GateToolsOptions.deniedOutput}).
 *
 * After a human approval the guardrail runs again and lets the call through
 * only if the gate itself recorded the approval, so an edited `RunState`
 * cannot approve anything.
 *
 * Works for tools from `tool()`, `agent.asTool()` and `getAllMcpTools()`.
 * Agent tools are modified in place, because the SDK finds the sub-agent of
 * an agent tool by the tool object's identity when it resumes an
 * interruption raised inside it. Gating a tool twice with the same gate is a
 * no-op; different gates stack (every one must allow).
 * Other tool types (hosted, computer, shell, apply_patch) cannot be gated
 * this way and are refused with a `TypeError` rather than passed through
 * ungated.
 *
 * Do not enable the runner option `toolExecution.preApprovalInputGuardrails`
 * with gated tools: it runs the guardrail before the pause, which then denies
 * escalations instead of pausing (fail closed).
 */
export function gateTools<T extends Tool<any>>(tools: readonly T[], gate: GateKeeper, options: GateToolsOptions = {}): T[] {
  if (!Array.isArray(tools)) throw new TypeError("gateTools: `tools` must be an array of tools");
  if (!gate || typeof (gate as Partial<GateKeeper>).checkToolCall !== "function") {
    throw new TypeError("gateTools: `gate` must be a GateKeeper");
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
    return gateFunctionTool(tool as FunctionTool<any, any, any>, gate, options) as T;
  });
}

function gateFunctionTool(
  tool: FunctionTool<any, any, any>,
  gate: GateKeeper,
  options: GateToolsOptions,
): FunctionTool<any, any, any> {
  // Gating twice with the same gate adds nothing (and would check each call twice).
  if (gateLayers(tool).some((existing) => existing.gate === gate)) return tool;
  const { mapping, deniedOutput } = options;
  const toolName = tool.name;
  const denials = new CallMemo<ToolDenial>();
  const originalNeedsApproval = tool.needsApproval;
  const originalErrorFunction = tool.errorFunction ?? undefined;

  // `execute` only on the guardrail's check, which runs right before the tool: a recorded call runs once.
  const check = (input: unknown, callId: string | undefined, execute = false): Promise<Decision> =>
    gate.checkToolCall({ toolName, input, ...(callId ? { callId } : {}), ...(mapping ? { mapping } : {}), ...(execute ? { execute } : {}) });

  const refuse = (denial: ToolDenial): ToolGuardrailFunctionOutput => {
    denials.set(denial.callId, denial);
    return ToolGuardrailFunctionOutputFactory.rejectContent(JSON.stringify(deniedOutputFor(denial)), {
      agentgate: denial.decision ?? { type: "deny", code: denial.code, reason: denial.reason },
    });
  };

  const guardrail: ToolInputGuardrailDefinition<any> = defineToolInputGuardrail({
    name: GATE_GUARDRAIL_NAME,
    run: async ({ toolCall }) => {
      const callId = typeof toolCall?.callId === "string" ? toolCall.callId : undefined;
      // checkToolCall never rejects: every failure comes back as an audited DENY.
      const read = readToolInput(tool, toolCall?.arguments);
      if (!read.ok) {
        // Recorded by the gate (audited), then refused.
        const refused = await gate.checkToolCall({ toolName, input: toolCall?.arguments, ...(callId ? { callId } : {}), inputError: read.reason });
        return refuse({ toolName, ...(callId ? { callId } : {}), reason: refused.reason, code: "invalid_arguments", decision: refused });
      }
      // needsApproval asked about this call id a moment ago: core answers from its per-call record, audited once.
      const decision = await check(read.input, callId, true);
      if (decision.type === "allow") return ToolGuardrailFunctionOutputFactory.allow({ agentgate: decision });
      const reason =
        decision.type === "escalate"
          ? `${decision.reason} (a human must approve this call and AgentGate has no recorded approval for it)`
          : decision.reason;
      return refuse({ toolName, ...(callId ? { callId } : {}), reason, decision });
    },
  });

  const needsApproval = async (runContext: RunContext<any>, input: unknown, callId?: string): Promise<boolean> => {
    if (callId) {
      let decision: Decision;
      try {
        decision = await check(input, callId);
      } catch {
        // No pause; the guardrail checks again and denies if the gate still fails.
        return false;
      }
      if (decision.type === "escalate") return !gate.hasApprovalHandler;
      // A denied call needs no human: the guardrail refuses it.
      if (decision.type !== "allow") return false;
    }
    return originalNeedsApproval ? originalNeedsApproval(runContext, input as never, callId) : false;
  };

  const layer: GateLayer = { gate, mapping, tool: { ...tool } };
  // Agent tools are gated in place: the SDK links an `agent.asTool()` tool to
  // its agent by object identity, and resuming an interruption raised inside
  // the sub-agent needs that link. Every other tool is copied; the spread
  // keeps `invoke` (the SDK keys the input parser and MCP binding on it) and
  // the symbol-keyed metadata (output validator, namespace).
  const gated = (isAgentTool(tool) ? tool : { ...tool }) as FunctionTool<any, any, any> & {
    [GATE_LAYERS]?: readonly GateLayer[];
  };
  gated.needsApproval = needsApproval;
  gated.inputGuardrails = [guardrail, ...(tool.inputGuardrails ?? [])];
  gated[GATE_LAYERS] = [...gateLayers(tool), layer];

  if (tool.outputSchema !== undefined) {
    // Without an errorFunction the SDK throws on `rejectContent` for schema
    // tools, and it validates what this returns against the schema.
    gated.errorFunction = async (runContext, error, details) => {
      const callId = details?.toolCall?.callId;
      const denial: ToolDenial = denials.take(callId) ?? {
        toolName,
        ...(callId ? { callId } : {}),
        // A rejection from resolveGateInterruptions arrives as the JSON message it set.
        reason: deniedPayloadIn(error)?.reason ?? errorMessage(error),
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

/** Reads back the `{ denied: true, reason }` JSON this package uses as a rejection message. */
function deniedPayloadIn(error: unknown): { reason: string } | undefined {
  const message = error instanceof Error ? error.message : undefined;
  if (!message?.startsWith("{")) return undefined;
  try {
    const payload = JSON.parse(message) as { denied?: unknown; reason?: unknown };
    return payload?.denied === true && typeof payload.reason === "string" ? { reason: payload.reason } : undefined;
  } catch {
    return undefined;
  }
}

/** `agent.asTool()` tools are the SDK's only function tools with an `on(event, handler)` method. */
function isAgentTool(tool: FunctionTool<any, any, any>): boolean {
  return typeof (tool as { on?: unknown }).on === "function";
}

