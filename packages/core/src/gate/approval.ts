import type { Decision } from "./decision.js";

/** What a human (or an approval service) is asked. JSON-serialisable. */
export interface ApprovalRequest {
  escalationId: string;
  callId?: string;
  agent: { id: string; name: string };
  action: string;
  target?: string;
  args?: unknown;
  reason: string;
}

/** A normalised approval answer. */
export interface ApprovalResolution {
  approved: boolean;
  /** Who approved, from the approval channel (never from the agent). */
  approvedBy?: string;
  reason?: string;
}

/** What an approval handler may return. */
export type ApprovalAnswer = boolean | ApprovalResolution;

/** Asks a human; the gate applies `approvalTimeoutMs` and fails closed on anything odd. */
export type ApprovalHandler = (request: ApprovalRequest) => ApprovalAnswer | Promise<ApprovalAnswer>;

/** The request an approver sees for an escalated decision: the gate and the MCP gateway build it alike. */
export function approvalRequestFor(
  agent: { id: string; name: string },
  decision: Decision,
  args: unknown,
): ApprovalRequest {
  const request: ApprovalRequest = {
    escalationId: decision.escalationId!,
    agent: { id: agent.id, name: agent.name },
    action: decision.action,
    reason: decision.reason,
  };
  if (decision.callId !== undefined) request.callId = decision.callId;
  if (decision.target !== undefined) request.target = decision.target;
  if (args !== undefined) request.args = args;
  return request;
}

/**
 * Reads an approval answer from an untrusted channel (a resume value, a UI
 * message). `true` or `{ approved: true }` approve; anything else, including
 * malformed input, is a rejection.
 */
export function normalizeApproval(value: unknown): ApprovalResolution & { valid: boolean } {
  if (value === true || value === false) return { approved: value, valid: true };
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { approved: false, valid: false };
  const v = value as Record<string, unknown>;
  const approved = Object.prototype.hasOwnProperty.call(v, "approved") ? v.approved : undefined;
  if (typeof approved !== "boolean") return { approved: false, valid: false };
  const out: ApprovalResolution & { valid: boolean } = { approved, valid: true };
  // Own properties only, like `approved`: nothing is read through a (possibly polluted) prototype.
  const own = (k: string) => (Object.prototype.hasOwnProperty.call(v, k) ? v[k] : undefined);
  const approvedBy = own("approvedBy");
  const reason = own("reason");
  if (typeof approvedBy === "string" && approvedBy !== "") out.approvedBy = approvedBy;
  if (typeof reason === "string" && reason !== "") out.reason = reason;
  return out;
}

/** Folds case, width and invisible characters, so `" DEPLOY-bot\u200b"` compares equal to `"deploy-bot"`. */
function foldName(s: string): string {
  return s
    .normalize("NFKC")
    .replace(/[\p{Cf}\p{Cc}\s]/gu, "")
    .toLowerCase();
}

/**
 * True when `approvedBy` names the requesting agent (its id or name, in any
 * case, width or spacing): an agent never approves its own escalation.
 */
export function isSelfApproval(approvedBy: string | undefined, agent: { id: string; name: string }): boolean {
  if (approvedBy === undefined) return false;
  const by = foldName(approvedBy);
  return by !== "" && (by === foldName(agent.id) || by === foldName(agent.name));
}

/** What a refused tool call returns to the model, so it can read why and react. */
export interface DeniedToolResult {
  denied: true;
  decision: "deny" | "escalate";
  code: string;
  reason: string;
  retryAfterMs?: number;
}

/** True for what {@link deniedToolResult} returns: a tool result that stands for a refused call. */
export function isDeniedToolResult(value: unknown): value is DeniedToolResult {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    v.denied === true &&
    (v.decision === "deny" || v.decision === "escalate") &&
    typeof v.code === "string" &&
    typeof v.reason === "string"
  );
}

/** The structured result adapters return instead of running a refused tool. */
export function deniedToolResult(decision: Decision): DeniedToolResult {
  const out: DeniedToolResult = {
    denied: true,
    decision: decision.type === "escalate" ? "escalate" : "deny",
    code: decision.code,
    reason: decision.type === "escalate" ? `human approval required: ${decision.reason}` : decision.reason,
  };
  if (decision.retryAfterMs !== undefined) out.retryAfterMs = decision.retryAfterMs;
  return out;
}
