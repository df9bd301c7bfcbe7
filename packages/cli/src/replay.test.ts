import { makeDecision, PermissionPolicy, type Decision } from "@agentgate/core";
import type { AuditLogEntry } from "@agentgate/core/node";
import { describe, expect, it } from "vitest";
import { parseSince, filterAuditEntries } from "./audit-filter.js";
import { replayDecisions } from "./replay.js";

let seq = 0;
const entry = (over: Partial<Decision>): AuditLogEntry => {
  seq++;
  return {
    line: seq + 1,
    seq,
    decision: makeDecision({
      id: `d${seq}`,
      type: "deny",
      code: "no_rule",
      agentId: "a1",
      agentName: "bot",
      action: "shell",
      target: undefined,
      reason: "r",
      timestamp: "2025-01-01T00:00:00.000Z",
      policy: "old",
      ...over,
    } as Parameters<typeof makeDecision>[0]),
  };
};

const policy = (yaml: string) => PermissionPolicy.parse(yaml);

describe("replayDecisions", () => {
  it("an invalid target stays denied under any policy (its raw text is not in the log)", () => {
    const r = replayDecisions(policy("name: p\nrules:\n  - action: file_read\n    allowed: true\n"), [
      entry({ action: "file_read", code: "invalid_target" }),
    ]);
    expect(r).toMatchObject({ ok: true, replayed: 1, unchanged: 1, changed: 0 });
  });

  it("the gate's own failures are not policy outcomes: reported, not replayed", () => {
    const r = replayDecisions(policy("name: p\nrules:\n  - action: shell\n    allowed: true\n"), [
      entry({ code: "store_unavailable" }),
      entry({ code: "call_mismatch" }),
    ]);
    expect(r).toMatchObject({ ok: true, replayed: 0 });
    expect(r.notReplayable.map((n) => n.code)).toEqual(["store_unavailable", "call_mismatch"]);
  });

  it("a human settlement without its escalation in the log compares as ESCALATE", () => {
    const settled = entry({
      type: "deny",
      code: "approval_denied",
      action: "tool_use",
      target: "deploy",
      escalationId: "e1",
    });
    const r = replayDecisions(policy("name: p\nrules:\n  - action: tool_use\n    allowed: true\n"), [settled]);
    expect(r.changes).toEqual([expect.objectContaining({ from: "escalate", to: "allow", basis: "escalation" })]);
    expect(r.ok).toBe(false);
  });

  it("escalate_after: counted separately while the candidate keeps counters; decided when the candidate denies outright", () => {
    const e = entry({ type: "escalate", code: "escalate_after", action: "llm_call", escalationId: "e2" });
    const keeps = replayDecisions(
      policy("name: p\nrules:\n  - action: llm_call\n    allowed: true\n    escalate_after: 5\n"),
      [e],
    );
    expect(keeps).toMatchObject({ replayed: 0, changed: 0 });
    expect(keeps.limitDriven).toEqual([
      expect.objectContaining({
        recordedCode: "escalate_after",
        staticVerdict: "allow",
        limits: { escalate_after: 5 },
      }),
    ]);
    const denies = replayDecisions(policy("name: p\nrules: []\n"), [e]);
    expect(denies.changes).toEqual([expect.objectContaining({ from: "escalate", to: "deny", basis: "limit" })]);
    expect(denies.ok).toBe(true);
  });

  it("only changes to ALLOW fail the replay", () => {
    const entries = [entry({ type: "allow", code: "allowed" }), entry({ type: "escalate", code: "require_approval" })];
    const stricter = replayDecisions(policy("name: p\nrules: []\n"), entries);
    expect(stricter).toMatchObject({
      ok: true,
      changed: 2,
      newlyAllowed: 0,
      transitions: { "allow->deny": 1, "escalate->deny": 1 },
    });
  });
});

describe("audit filters", () => {
  const now = Date.parse("2025-01-01T12:00:00Z");
  it("parses durations and ISO times, and rejects anything else", () => {
    expect(parseSince("90s", now)).toBe(now - 90_000);
    expect(parseSince("1h", now)).toBe(now - 3_600_000);
    expect(parseSince("2d", now)).toBe(now - 2 * 86_400_000);
    expect(parseSince("2025-01-01T11:00:00Z", now)).toBe(now - 3_600_000);
    for (const bad of ["", "1", "1y", "yesterday", "-1h", "2025-13-45"])
      expect(() => parseSince(bad, now), bad).toThrow(/--since/);
  });

  it("--limit keeps the most recent, oldest first; 0 keeps none", () => {
    const es = [entry({}), entry({}), entry({})];
    expect(filterAuditEntries(es, { limit: 2 }).map((e) => e.seq)).toEqual([es[1]!.seq, es[2]!.seq]);
    expect(filterAuditEntries(es, { limit: 0 })).toEqual([]);
  });
});
