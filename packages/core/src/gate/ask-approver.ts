import { errorText } from "../errors/error-text.js";
import { normalizeApproval, type ApprovalHandler, type ApprovalRequest, type ApprovalResolution } from "./approval.js";

/** What asking an approval handler came to: its answer, or why there is none (never an approval). */
export type ApproverAnswer =
  | { answer: ApprovalResolution }
  | { code: "approval_timeout" | "approval_error"; failure: string };

export interface AskApproverOptions {
  /** How long the handler has; past it the answer is an `approval_timeout` failure. */
  timeoutMs: number;
  /** The failure text at the timeout, when not the default "no approval within <timeoutMs> ms (approvalTimeoutMs)". */
  timedOut?: string;
  /** The failure text for an error the handler threw, when not the default "the approval handler failed: <error>". */
  failed?: (error: unknown) => string | undefined;
}

const TIMEOUT = Symbol("approval timeout");

/**
 * Runs an `ApprovalHandler` with a timeout, on a copy of the request (the handler cannot change
 * what the gate records). A throw, a rejection, a timeout or an answer that is not a boolean or
 * `{ approved: boolean }` is a failure, never an approval. Shared by the gate's escalations and
 * the MCP gateway, so both ask the same way.
 */
export async function askApprover(
  handler: ApprovalHandler,
  request: ApprovalRequest,
  options: AskApproverOptions,
): Promise<ApproverAnswer> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<typeof TIMEOUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMEOUT), options.timeoutMs);
    });
    const raw = await Promise.race([Promise.resolve().then(() => handler(structuredClone(request))), timeout]);
    if (raw === TIMEOUT) {
      const failure = options.timedOut ?? `no approval within ${options.timeoutMs} ms (approvalTimeoutMs)`;
      return { code: "approval_timeout", failure };
    }
    const { valid, ...answer } = normalizeApproval(raw);
    if (!valid) {
      const failure = `the approval handler returned ${describeAnswer(raw)}, not a boolean or { approved: boolean }`;
      return { code: "approval_error", failure };
    }
    return { answer };
  } catch (error) {
    const failure = options.failed?.(error) ?? `the approval handler failed: ${errorText(error)}`;
    return { code: "approval_error", failure };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

function describeAnswer(raw: unknown): string {
  if (raw === undefined) return "undefined";
  if (raw === null) return "null";
  if (typeof raw === "object") return "an object without a boolean `approved`";
  return `${typeof raw} ${String(raw).slice(0, 40)}`;
}
