import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { makeDecision, type Decision } from "../gate/decision.js";
import { canonicalJson } from "../gate/fingerprint.js";
import { canonicalBody, chainHash, decisionJson, parseRecordLine, recordLine } from "./audit-record.js";
import { encodeRecord, recordRoom } from "./audit-chain.js";

const text = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.string({ unit: "grapheme" }),
  fc.constantFrom('"', "\\", "\n", "\u2028", "\ud800", "é"),
);
const decision = fc
  .record(
    {
      type: fc.constantFrom("allow", "deny", "escalate"),
      code: fc.constantFrom("allowed", "no_rule", "rate_limit"),
      action: text,
      target: fc.option(text, { nil: undefined }),
      reason: text,
      approvedBy: fc.option(text, { nil: undefined }),
      callId: fc.option(text, { nil: undefined }),
      escalationId: fc.option(fc.uuid(), { nil: undefined }),
      retryAfterMs: fc.option(fc.oneof(fc.nat(), fc.double()), { nil: undefined }),
      policy: text,
    },
    { requiredKeys: ["type", "code", "action", "reason", "policy"] },
  )
  .map((f) =>
    makeDecision({
      id: "d-1",
      agentId: "a-1",
      agentName: "bot",
      timestamp: "2026-01-01T00:00:00.000Z",
      target: undefined,
      ...f,
    } as Parameters<typeof makeDecision>[0]),
  );

describe("decision record encoding", () => {
  it("decisionJson is canonicalJson, fast path or not", () => {
    fc.assert(
      fc.property(decision, (d) => {
        expect(decisionJson(d)).toBe(canonicalJson(d, 1));
      }),
    );
    const odd = {
      ...makeDecision({
        id: "1",
        type: "allow",
        code: "allowed",
        agentId: "a",
        agentName: "n",
        action: "x",
        target: undefined,
        reason: "r",
        timestamp: "t",
        policy: "p",
      }),
      extra: { b: 1, a: 2 },
    };
    expect(decisionJson(odd as unknown as Decision)).toBe(canonicalJson(odd, 1));
  });

  it("encodeRecord (format v2) writes a line that reads back as the same decision and arguments", () => {
    fc.assert(
      fc.property(decision, fc.option(fc.jsonValue(), { nil: undefined }), fc.nat(), (d, args, seq) => {
        const argsJson = args === undefined ? undefined : canonicalJson(args, 1);
        const json = JSON.stringify(d);
        const buf = Buffer.alloc(recordRoom(json, argsJson) + 10);
        const end = encodeRecord(buf, 5, seq, json, argsJson);
        const line = buf.subarray(5, end).toString("utf8");
        expect(line.endsWith("\n")).toBe(true);
        expect(line.slice(0, -1)).not.toContain("\n");
        const parsed = parseRecordLine(line.slice(0, -1));
        expect(parsed).toMatchObject({ version: 2, body: undefined, record: { seq, type: "decision", v: 2 } });
        expect(parsed.record?.type === "decision" && parsed.record.decision).toEqual(JSON.parse(json));
        expect((parsed.record as { args?: unknown }).args).toEqual(
          argsJson === undefined ? undefined : JSON.parse(argsJson),
        );
      }),
      { numRuns: 300 },
    );
  });
});

describe("parseRecordLine's fast path for decision records", () => {
  it("builds exactly canonicalBody for any decision record, with or without args, and falls back for other shapes", () => {
    const text = fc.string({ unit: "binary", maxLength: 20 });
    fc.assert(
      fc.property(
        fc.record({
          target: fc.option(text, { nil: undefined }),
          reason: text,
          retryAfterMs: fc.option(fc.nat(), { nil: undefined }),
          callId: fc.option(text, { nil: undefined }),
        }),
        fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }),
        fc.boolean(),
        (fields, args, extra) => {
          const decision = {
            id: "d",
            type: "allow",
            code: "allowed",
            agentId: "a",
            agentName: "n",
            action: "tool_use",
            timestamp: "2025-01-01T00:00:00.000Z",
            policy: "p",
            ...fields,
          };
          for (const k of Object.keys(decision) as (keyof typeof decision)[])
            if (decision[k] === undefined) delete decision[k];
          const record: Record<string, unknown> = { decision, prevHash: "0".repeat(64), seq: 7, type: "decision" };
          if (args !== undefined) record.args = args;
          if (extra) record.zzz = 1;
          const body = canonicalBody(record);
          const line = recordLine(body, chainHash(record.prevHash as string, body));
          const parsed = parseRecordLine(line);
          // The same verdict the generic canonicaliser gives: a valid record, hash and canonical form.
          expect(parsed.problem).toBeUndefined();
          expect(parsed).toMatchObject({ hashOk: true, canonical: true });
        },
      ),
      { numRuns: 300 },
    );
  });
});
