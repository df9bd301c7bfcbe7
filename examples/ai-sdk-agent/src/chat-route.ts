import { gateModel, gateToolApproval, recordApprovals, withGate, type GateableLanguageModel } from "@agentgate/ai-sdk";
import type { GateKeeper, ToolMapping } from "@agentgate/core";
import {
  convertToModelMessages,
  isStepCount,
  safeValidateUIMessages,
  streamText,
  type ModelMessage,
  type ToolSet,
  type UIMessage,
} from "ai";

/** A tool-approval-request this server streamed to a client, remembered server-side. */
interface IssuedRequest {
  approvalId: string;
  toolCallId: string;
}

export interface ChatRouteOptions {
  gate: GateKeeper;
  model: GateableLanguageModel;
  tools: ToolSet;
  mapping?: ToolMapping;
  /**
   * Who is asking, from the request (your session or auth check). `undefined` → 401.
   * The name is recorded as `approvedBy` on the approvals this user gives.
   */
  authenticate: (req: Request) => string | undefined | Promise<string | undefined>;
  /**
   * Approval requests the server issued, by approval id. In memory here; use a store
   * shared by your instances in production (the gate's own store, e.g. Redis, holds the escalations).
   */
  issued?: Map<string, IssuedRequest>;
}

/**
 * A Next.js-style route (`app/api/chat/route.ts`: `export const { POST } = createChatRoute(...)`)
 * for `useChat`. The client sends UI messages; the only way in is {@link readChatMessages},
 * which validates them and converts them to model messages, so UI messages never reach
 * `streamText` or `recordApprovals` (where they would crash or be silently missed).
 */
export function createChatRoute(options: ChatRouteOptions): { POST: (req: Request) => Promise<Response> } {
  const { gate, tools, mapping } = options;
  const issued = options.issued ?? new Map<string, IssuedRequest>();
  const gatedTools = withGate(tools, gate, mapping ? { mapping } : {});
  const toolApproval = gateToolApproval(gate, mapping ? { mapping } : {});
  const model = gateModel(options.model, gate);

  async function POST(req: Request): Promise<Response> {
    const user = await options.authenticate(req);
    if (user === undefined) return Response.json({ error: "sign in first" }, { status: 401 });
    const read = await readChatMessages(req, tools);
    if (!read.ok) return Response.json({ error: read.error }, { status: 400 });

    // The human's answers (addToolApprovalResponse in useChat) count once the gate records them,
    // matched through the requests this server issued, never through the history the client sent.
    const recorded = await recordApprovals(read.modelMessages, gate, {
      approvedBy: user,
      requests: [...issued.values()],
    });
    // An answered request is done: a second answer to it (a replay) is not recorded again.
    for (const answer of recorded) if (answer.status === "recorded") issued.delete(answer.approvalId);

    const result = streamText({
      model,
      tools: gatedTools,
      toolApproval,
      messages: read.modelMessages,
      stopWhen: isStepCount(8),
      onStepFinish: (step) => {
        for (const part of step.content) {
          if (part.type === "tool-approval-request" && !part.isAutomatic) {
            issued.set(part.approvalId, { approvalId: part.approvalId, toolCallId: part.toolCall.toolCallId });
          }
        }
      },
    });
    return result.toUIMessageStreamResponse({ originalMessages: read.uiMessages });
  }

  return { POST };
}

export type ChatMessages =
  | { ok: true; uiMessages: UIMessage[]; modelMessages: ModelMessage[] }
  | { ok: false; error: string };

/**
 * Reads `{ messages }` from a `useChat` request: validates the UI messages against the tools
 * (the body is attacker-controlled) and converts them with `convertToModelMessages`.
 */
export async function readChatMessages(req: Request, tools: ToolSet): Promise<ChatMessages> {
  let body: unknown;
  try {
    body = await req.json();
  } catch {
    return { ok: false, error: "the body must be JSON: { messages: UIMessage[] }" };
  }
  const messages = typeof body === "object" && body !== null ? (body as { messages?: unknown }).messages : undefined;
  const valid = await safeValidateUIMessages({ messages, tools: tools as never });
  if (!valid.success) return { ok: false, error: `invalid UI messages: ${valid.error.message}` };
  try {
    const modelMessages = await convertToModelMessages(valid.data, { tools });
    return { ok: true, uiMessages: valid.data, modelMessages };
  } catch (error) {
    return {
      ok: false,
      error: `cannot convert the UI messages: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}
