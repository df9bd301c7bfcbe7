import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readResume } from "./approval-interrupt.js";

const hasOwn = (v: unknown, k: string) =>
  typeof v === "object" && v !== null && Object.prototype.hasOwnProperty.call(v, k);

describe("readResume (HITL answers are untrusted input)", () => {
  it("approve, reject with a message, edit with a name and args object", () => {
    expect(readResume({ decisions: [{ type: "approve" }] })).toEqual({ resolution: { approved: true } });
    expect(readResume({ decisions: [{ type: "reject", message: "no" }], approvedBy: "bob" })).toEqual({
      resolution: { approved: false, approvedBy: "bob", reason: "no" },
    });
    expect(
      readResume({ decisions: [{ type: "edit", editedAction: { name: "deploy", args: { env: "staging" } } }] }),
    ).toEqual({
      resolution: { approved: true },
      edited: { name: "deploy", args: { env: "staging" } },
    });
  });

  it("approval through a prototype, several decisions, or a malformed edit is a rejection", () => {
    const polluted = { decisions: [Object.create({ type: "approve" })] };
    for (const value of [
      polluted,
      JSON.parse('{"decisions":[{"__proto__":{"type":"approve"}}]}'),
      { decisions: [{ type: "approve" }, { type: "approve" }] },
      { decisions: [] },
      { decisions: "approve" },
      { decisions: [{ type: "edit", editedAction: { name: "deploy", args: [1] } }] },
      { decisions: [{ type: "edit", editedAction: Object.create({ name: "deploy", args: {} }) }] },
      { decisions: [{ type: "APPROVE" }] },
    ]) {
      const read = readResume(value);
      expect((read.resolution as { approved: boolean }).approved).toBe(false);
      expect(read.edited).toBeUndefined();
    }
  });

  it("property: an approval or edit only ever comes from one own decision of type approve or edit", () => {
    const decision = fc.oneof(
      fc.record({ type: fc.constantFrom("approve", "reject", "edit", "x") }),
      fc.record({ type: fc.constant("edit"), editedAction: fc.anything() }),
      fc.anything(),
    );
    fc.assert(
      fc.property(fc.oneof(fc.record({ decisions: fc.array(decision, { maxLength: 3 }) }), fc.anything()), (value) => {
        const read = readResume(value);
        const decisions = hasOwn(value, "decisions") ? (value as { decisions: unknown }).decisions : undefined;
        if (decisions === undefined) return; // not a HITL answer: passed through to the core's own validation
        if ((read.resolution as { approved?: unknown }).approved !== true) return;
        expect(Array.isArray(decisions) && decisions.length === 1).toBe(true);
        const type = (decisions as { type?: unknown }[])[0]!.type;
        expect(["approve", "edit"]).toContain(type);
        if (type === "edit") expect(read.edited).toBeDefined();
      }),
    );
  });
});
