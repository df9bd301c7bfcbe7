import { errorText } from "@agentgate/core/internal";
import type { ModelMessage, ToolApprovalConfiguration, ToolApprovalStatus, ToolSet, TypedToolCall } from "ai";

/** The app's own verdict on one call, normalised. */
export type AppVerdict =
  | { type: "not-applicable" | "approved" | "user-approval"; reason?: string }
  | { type: "denied"; reason: string };

/** @internal Runs the app's `toolApproval` (function or per-tool map) for one call. Never throws: a failure is `denied`. */
export async function appVerdict<TOOLS extends ToolSet, RUNTIME_CONTEXT>(
  configuration: ToolApprovalConfiguration<TOOLS, RUNTIME_CONTEXT> | undefined,
  call: {
    toolCall: TypedToolCall<TOOLS>;
    tools: TOOLS | undefined;
    toolsContext: any;
    runtimeContext: RUNTIME_CONTEXT;
    messages: ModelMessage[];
  },
): Promise<AppVerdict> {
  if (configuration === undefined || configuration === null) return { type: "not-applicable" };
  let status: ToolApprovalStatus;
  try {
    if (typeof configuration === "function") {
      status = await configuration(call);
    } else {
      const entry = ownValue(configuration, call.toolCall.toolName) as
        | ToolApprovalStatus
        | ((input: unknown, options: Record<string, unknown>) => ToolApprovalStatus | PromiseLike<ToolApprovalStatus>)
        | undefined;
      status =
        typeof entry === "function"
          ? await entry(call.toolCall.input, {
              toolCallId: call.toolCall.toolCallId,
              messages: call.messages,
              toolContext: ownValue(call.toolsContext, call.toolCall.toolName),
              runtimeContext: call.runtimeContext,
            })
          : entry;
    }
  } catch (error) {
    return { type: "denied", reason: `your toolApproval failed (${errorText(error)}), so the call is denied` };
  }
  const normalized: unknown = typeof status === "string" ? { type: status } : status;
  if (normalized === undefined || normalized === null) return { type: "not-applicable" };
  const type = (normalized as { type?: unknown }).type;
  const raw = (normalized as { reason?: unknown }).reason;
  const reason = typeof raw === "string" ? raw : undefined;
  switch (type) {
    case "denied":
      return { type, reason: reason ?? "your toolApproval denied the call" };
    case "not-applicable":
    case "approved":
    case "user-approval":
      return reason === undefined ? { type } : { type, reason };
    default:
      return {
        type: "denied",
        reason: `your toolApproval returned an unknown status (${String(type)}), so the call is denied`,
      };
  }
}

/** @internal Tool names can come from model output or client history: read own properties only. */
export function ownValue(object: unknown, key: string): unknown {
  return typeof object === "object" && object !== null && Object.hasOwn(object, key)
    ? (object as Record<string, unknown>)[key]
    : undefined;
}
