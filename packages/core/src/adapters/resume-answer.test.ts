import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hitlResponseApproves, readResumeAnswer } from "./resume-answer.js";

const hasOwn = (v: unknown, k: string) => typeof v === "object" && v !== null && Object.hasOwn(v, k);
const approved = (v: unknown) => (readResumeAnswer(v).resolution as { approved?: unknown }).approved === true;

describe("readResumeAnswer (resume values are untrusted input)", () => {
  it("approve, reject with a message, edit with a name and args object; other values pass through for the gate", () => {
    expect(readResumeAnswer({ decisions: [{ type: "approve" }] })).toEqual({ resolution: { approved: true } });
    expect(readResumeAnswer({ decisions: [{ type: "reject", message: "no" }], approvedBy: "bob" })).toEqual({
      resolution: { approved: false, approvedBy: "bob", reason: "no" },
    });
    expect(
      readResumeAnswer({ decisions: [{ type: "edit", editedAction: { name: "deploy", args: { env: "staging" } } }] }),
    ).toEqual({ resolution: { approved: true }, edited: { name: "deploy", args: { env: "staging" } } });
    expect(readResumeAnswer({ approved: true, escalationId: "e1" })).toEqual({
      resolution: { approved: true, escalationId: "e1" },
      escalationId: "e1",
    });
    expect(readResumeAnswer(true)).toEqual({ resolution: true });
    expect(readResumeAnswer([true])).toEqual({ resolution: [true] });
  });

  it("approval through a prototype, several decisions, or a malformed edit is a rejection that says why", () => {
    for (const value of [
      { decisions: [Object.create({ type: "approve" })] },
      JSON.parse('{"decisions":[{"__proto__":{"type":"approve"}}]}'),
      { decisions: [{ type: "approve" }, { type: "approve" }] },
      { decisions: [] },
      { decisions: "approve" },
      { decisions: [{ type: "edit", editedAction: { name: "deploy", args: [1] } }] },
      { decisions: [{ type: "edit", editedAction: Object.create({ name: "deploy", args: {} }) }] },
      { decisions: [{ type: "APPROVE" }] },
    ]) {
      const read = readResumeAnswer(value);
      expect(read.resolution).toMatchObject({ approved: false, reason: expect.stringMatching(/malformed/) });
      expect(read.edited).toBeUndefined();
    }
    // The binding to one escalation is read from the value's own fields only.
    expect(readResumeAnswer(JSON.parse('{"__proto__":{"escalationId":"e1"},"approved":true}')).escalationId).toBe(
      undefined,
    );
  });

  it("property: an approval or edit only ever comes from one own decision of type approve or edit", () => {
    const decision = fc.oneof(
      fc.record({ type: fc.constantFrom("approve", "reject", "edit", "x") }),
      fc.record({ type: fc.constant("edit"), editedAction: fc.anything() }),
      fc.anything(),
    );
    fc.assert(
      fc.property(fc.oneof(fc.record({ decisions: fc.array(decision, { maxLength: 3 }) }), fc.anything()), (value) => {
        const read = readResumeAnswer(value);
        if (!hasOwn(value, "decisions") || (value as { decisions?: unknown }).decisions === undefined) return; // passed through to the gate's own validation
        if (!approved(value)) return;
        const decisions = (value as { decisions: unknown }).decisions;
        expect(Array.isArray(decisions) && decisions.length === 1).toBe(true);
        const type = (decisions as { type?: unknown }[])[0]!.type;
        expect(["approve", "edit"]).toContain(type);
        if (type === "edit") expect(read.edited).toBeDefined();
      }),
    );
  });
});

describe("hitlResponseApproves", () => {
  const actions = [
    { name: "deploy", args: { env: "prod" }, description: "" },
    { name: "search", args: { q: "x" }, description: "" },
  ];
  const call = { toolName: "deploy", input: { env: "prod" } };
  const approve = { type: "approve" };

  it("approved as asked, or edited into exactly this call", () => {
    expect(hitlResponseApproves(actions, { decisions: [approve, approve] }, call)).toBe(true);
    const edit = { type: "edit", editedAction: { name: "deploy", args: { env: "staging" } } };
    expect(
      hitlResponseApproves(actions, { decisions: [edit, approve] }, { toolName: "deploy", input: { env: "staging" } }),
    ).toBe(true);
    // The edit changed the call: the original arguments were not approved.
    expect(hitlResponseApproves(actions, { decisions: [edit, approve] }, call)).toBe(false);
  });

  it("a rejection, a count mismatch, other arguments or another tool is not an approval", () => {
    expect(hitlResponseApproves(actions, { decisions: [{ type: "reject" }, approve] }, call)).toBe(false);
    expect(hitlResponseApproves(actions, { decisions: [approve] }, call)).toBe(false);
    expect(hitlResponseApproves(actions, { decisions: [approve, approve] }, { ...call, input: { env: "dev" } })).toBe(
      false,
    );
    expect(hitlResponseApproves(actions, { decisions: [approve, approve] }, { ...call, toolName: "shell" })).toBe(
      false,
    );
    expect(hitlResponseApproves(actions, undefined, call)).toBe(false);
    expect(hitlResponseApproves(actions, { decisions: [approve, approve] }, { ...call, input: { n: 1n } })).toBe(false);
  });
});
