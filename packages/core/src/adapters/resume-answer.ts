import { canonicalJson } from "../gate/fingerprint.js";

/** A decision of LangChain's human-in-the-loop `HITLResponse`. */
export type HitlDecision =
  | { type: "approve" }
  | { type: "edit"; editedAction: { name: string; args: Record<string, unknown> } }
  | { type: "reject"; message?: string };

/**
 * The answers a paused call accepts: a human-in-the-loop response (`{ decisions: [one decision] }`),
 * or the shape `resolveEscalation` takes. `escalationId`, when given, must be the escalation asked
 * about, which binds an answer to one call. Anything else counts as not approved.
 */
export type ResumeValue =
  | boolean
  | { approved: boolean; approvedBy?: string; reason?: string; escalationId?: string }
  | { decisions: [HitlDecision]; approvedBy?: string; escalationId?: string };

/** A human's answer to a paused tool call, read from an untrusted resume value. */
export interface ResumeAnswer {
  /** What to record with `gate.resolveEscalation` (the gate validates it: anything odd is a rejection). */
  resolution: unknown;
  /** The call as the human edited it: a new call, to be checked on its own. */
  edited?: { name: string; args: Record<string, unknown> };
  /** The escalation the answer says it answers, when it names one. */
  escalationId?: string;
}

/**
 * Reads a resume value: `true`/`false`, `{ approved, approvedBy?, reason? }` (passed on for the
 * gate to validate), or a human-in-the-loop response `{ decisions: [{ type: "approve" | "edit" |
 * "reject", ... }] }` with exactly one decision. Own properties only; a malformed decision is a
 * rejection that says why. `escalationId`, when present, binds the answer to one escalation.
 */
export function readResumeAnswer(value: unknown): ResumeAnswer {
  const named = own(value, "escalationId");
  const bound = named === undefined ? {} : { escalationId: String(named) };
  const decisions = own(value, "decisions");
  if (decisions === undefined) return { resolution: value, ...bound };
  const approvedBy = own(value, "approvedBy");
  const by = typeof approvedBy === "string" ? { approvedBy } : {};
  const reject = (reason: string): ResumeAnswer => ({ resolution: { approved: false, ...by, reason }, ...bound });
  if (!Array.isArray(decisions) || decisions.length !== 1) {
    return reject("malformed HITL response: expected exactly one decision for this tool call");
  }
  const decision: unknown = decisions[0];
  const type = own(decision, "type");
  if (type === "approve") return { resolution: { approved: true, ...by }, ...bound };
  if (type === "reject") {
    const message = own(decision, "message");
    return reject(typeof message === "string" && message !== "" ? message : "rejected by a human");
  }
  if (type !== "edit") return reject("malformed HITL response: decision type must be approve, edit or reject");
  const action = own(decision, "editedAction");
  const name = own(action, "name");
  const args = own(action, "args");
  if (typeof name !== "string" || typeof args !== "object" || args === null || Array.isArray(args)) {
    return reject("malformed HITL edit: editedAction needs a name and an args object");
  }
  return { resolution: { approved: true, ...by }, edited: { name, args: args as Record<string, unknown> }, ...bound };
}

/** An own property of an object (never one read through a possibly polluted prototype). */
function own(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.hasOwn(value, key)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/**
 * Whether a human-in-the-loop response (`{ decisions }`, one per action asked, in order) approved
 * `call` as asked, or edited an asked action into exactly `call` (same tool, same arguments).
 * Anything unexpected (arguments that cannot be compared included) is `false`.
 */
export function hitlResponseApproves(
  actions: readonly unknown[],
  response: unknown,
  call: { toolName: string; input: unknown },
): boolean {
  const decisions = own(response, "decisions");
  if (!Array.isArray(decisions) || decisions.length !== actions.length) return false;
  try {
    const args = canonicalJson(call.input);
    return actions.some((action, i) => {
      const answer = readResumeAnswer({ decisions: [decisions[i]] });
      if (own(action, "name") !== call.toolName || own(answer.resolution, "approved") !== true) return false;
      const approved = answer.edited ?? { name: call.toolName, args: own(action, "args") };
      return approved.name === call.toolName && canonicalJson(approved.args) === args;
    });
  } catch {
    return false;
  }
}
