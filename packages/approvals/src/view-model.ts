import type { EscalationRecord, Grant } from "@agentgate/core";

/** What the inbox shows of one escalation: every string here came from an agent or a model, so it is only ever text. */
export interface EscalationView {
  id: string;
  agentId: string;
  agentName: string;
  action: string;
  target: string;
  tool: string;
  reason: string;
  policy: string;
  /** Pretty-printed arguments with long values folded ("" when none). */
  args: string;
  /** The full pretty-printed arguments, when folding shortened them. */
  argsFull?: string;
  createdAt: string;
  expiresAt: string;
}

const FOLD_AT = 160;
const MAX_ARGS = 64 * 1024;

/** Pretty JSON with every string longer than 160 characters cut, saying how much was left out. */
export function foldArgs(args: unknown): { text: string; full?: string } {
  if (args === undefined) return { text: "" };
  let folded = false;
  let full: string;
  let text: string;
  try {
    full = JSON.stringify(args, null, 2) ?? "";
    text =
      JSON.stringify(
        args,
        (_k, v: unknown) => {
          if (typeof v === "string" && v.length > FOLD_AT) {
            folded = true;
            return `${v.slice(0, FOLD_AT)}… [${v.length - FOLD_AT} more characters]`;
          }
          return v;
        },
        2,
      ) ?? "";
  } catch {
    return { text: "[arguments not JSON-serialisable]" };
  }
  if (full.length > MAX_ARGS) full = `${full.slice(0, MAX_ARGS)}\n… [${full.length - MAX_ARGS} more characters]`;
  return folded || text !== full ? { text, full } : { text };
}

export function escalationView(r: EscalationRecord): EscalationView {
  const req = r.request;
  const { text, full } = foldArgs(req.args);
  const v: EscalationView = {
    id: r.escalationId,
    agentId: req.agent.id,
    agentName: req.agent.name,
    action: req.action,
    target: req.target ?? "",
    tool: req.action === "tool_use" && req.target ? req.target : "",
    reason: req.reason,
    policy: r.decision.policy,
    args: text,
    createdAt: new Date(r.createdAt).toISOString(),
    expiresAt: new Date(r.expiresAt).toISOString(),
  };
  if (full !== undefined) v.argsFull = full;
  return v;
}

/** Newest first. */
export function sortNewestFirst(records: EscalationRecord[]): EscalationRecord[] {
  return [...records].sort((a, b) => b.createdAt - a.createdAt || (a.escalationId < b.escalationId ? -1 : 1));
}

export interface GrantView {
  id: string;
  agentId: string;
  agentName: string;
  action: string;
  target: string;
  tool: string;
  approvedBy: string;
  createdAt: string;
  expiresAt: string;
  usesLeft?: number;
}

export function grantView(g: Grant): GrantView {
  const v: GrantView = {
    id: g.id,
    agentId: g.agentId,
    agentName: g.agentName ?? "",
    action: g.action,
    target: g.target,
    tool: g.tool,
    approvedBy: g.approvedBy,
    createdAt: new Date(g.createdAt).toISOString(),
    expiresAt: new Date(g.expiresAt).toISOString(),
  };
  if (g.usesLeft !== undefined) v.usesLeft = g.usesLeft;
  return v;
}
