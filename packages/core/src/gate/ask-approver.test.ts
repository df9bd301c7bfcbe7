import { describe, expect, it } from "vitest";
import type { ApprovalRequest } from "./approval.js";
import { askApprover } from "./ask-approver.js";

const request: ApprovalRequest = {
  escalationId: "e1",
  agent: { id: "a1", name: "agent" },
  action: "file_write",
  target: "/x",
  reason: "rule requires approval",
};

describe("askApprover (shared by the gate's escalations and the MCP gateway)", () => {
  it("returns the handler's answer, normalised, from a copy of the request the handler cannot change", async () => {
    const seen: ApprovalRequest[] = [];
    const got = await askApprover(
      (r) => {
        seen.push(r);
        (r as { target?: string }).target = "/changed";
        return { approved: true, approvedBy: "alice" };
      },
      request,
      { timeoutMs: 1000 },
    );
    expect(got).toEqual({ answer: { approved: true, approvedBy: "alice" } });
    expect(seen[0]).not.toBe(request);
    expect(request.target).toBe("/x");
    expect(await askApprover(() => false, request, { timeoutMs: 1000 })).toEqual({ answer: { approved: false } });
  });

  it("a handler that never answers is an approval_timeout failure naming the limit", async () => {
    const got = await askApprover(() => new Promise<boolean>(() => {}), request, { timeoutMs: 20 });
    expect(got).toEqual({ code: "approval_timeout", failure: "no approval within 20 ms (approvalTimeoutMs)" });
    const worded = await askApprover(() => new Promise<boolean>(() => {}), request, { timeoutMs: 5, timedOut: "late" });
    expect(worded).toEqual({ code: "approval_timeout", failure: "late" });
  });

  it("a throw, a rejection or a malformed answer is an approval_error failure, never an approval", async () => {
    const threw = await askApprover(
      () => {
        throw new Error("inbox offline");
      },
      request,
      { timeoutMs: 1000 },
    );
    expect(threw).toEqual({ code: "approval_error", failure: "the approval handler failed: inbox offline" });
    const rejected = await askApprover(() => Promise.reject(new Error("no")), request, { timeoutMs: 1000 });
    expect(rejected).toEqual({ code: "approval_error", failure: "the approval handler failed: no" });
    const odd = await askApprover(() => "yes" as unknown as boolean, request, { timeoutMs: 1000 });
    expect(odd).toEqual({
      code: "approval_error",
      failure: "the approval handler returned string yes, not a boolean or { approved: boolean }",
    });
    const empty = await askApprover(() => ({}) as unknown as boolean, request, { timeoutMs: 1000 });
    expect("answer" in empty).toBe(false);
  });

  it("`failed` words a thrown error its own way; undefined keeps the default", async () => {
    const fail = (error: unknown) => ((error as Error).message === "timed out" ? "approval timed out" : undefined);
    const boom = (message: string) => () => Promise.reject(new Error(message));
    expect(await askApprover(boom("timed out"), request, { timeoutMs: 1000, failed: fail })).toEqual({
      code: "approval_error",
      failure: "approval timed out",
    });
    expect(await askApprover(boom("other"), request, { timeoutMs: 1000, failed: fail })).toEqual({
      code: "approval_error",
      failure: "the approval handler failed: other",
    });
  });
});
