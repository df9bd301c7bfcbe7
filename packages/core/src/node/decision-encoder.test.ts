import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { makeDecision, type Decision } from "../gate/decision.js";
import { DecisionIds } from "../gate/decision-ids.js";
import { GateKeeper } from "../gate/gate-keeper.js";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import { DecisionEncoder, NO_ROOM, UNSUPPORTED } from "./decision-encoder.js";
import { JsonlAuditSink, verifyAuditLog } from "./index.js";
import { logDecision } from "./test-utils/audit-logs.js";

/** What the encoder writes for `value` into a fresh buffer, as text; or its NO_ROOM / UNSUPPORTED answer. */
function encoded(encoder: DecisionEncoder, value: object, room = 1 << 16): string | number {
  const buf = Buffer.alloc(room + 8, 0xee);
  const end = encoder.encode(buf, 4, 4 + room, value);
  // Never a byte past the limit.
  expect(buf.subarray(4 + room).every((b) => b === 0xee)).toBe(true);
  return end < 0 ? end : buf.toString("utf8", 4, end);
}

const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
/** Strings that need every kind of JSON escape or multi-byte UTF-8: quotes, controls, lone surrogates, emoji. */
const text = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.constantFrom('say "hi"', "back\\slash", "\u0000\u001f\u007f", "\u2028\u2029", "\ud800", "é😀", ""),
);
const decisionArb = fc
  .record({
    id: fc.oneof(fc.uuid(), text),
    type: fc.constantFrom("allow" as const, "deny" as const, "escalate" as const),
    code: fc.constantFrom("allowed" as const, "rate_limit" as const, "approved" as const),
    agentId: text,
    agentName: text,
    action: text,
    target: optional(text),
    reason: text,
    timestamp: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    policy: text,
    approvedBy: optional(text),
    callId: optional(text),
    escalationId: optional(fc.uuid()),
    grantId: optional(fc.uuid()),
    retryAfterMs: optional(fc.oneof(fc.nat(), fc.double())),
    mode: optional(fc.constant("local-fallback" as const)),
  })
  .map((f) => makeDecision(f));

describe("DecisionEncoder", () => {
  it("writes JSON.stringify(decision) byte for byte, over sequences that hit and miss its caches", () => {
    fc.assert(
      fc.property(fc.array(decisionArb, { minLength: 1, maxLength: 40 }), fc.nat(), (decisions, seed) => {
        const encoder = new DecisionEncoder();
        // Each decision several times, interleaved, so runs are kept and then copied from the cache.
        for (let round = 0; round < 3; round++) {
          for (let i = 0; i < decisions.length; i++) {
            const d = decisions[(i + seed + round) % decisions.length]!;
            expect(encoded(encoder, d)).toBe(JSON.stringify(d));
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it("any flat object: the same text as JSON.stringify, or UNSUPPORTED (then the sink uses JSON.stringify)", () => {
    const value = fc.oneof(text, fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined));
    const keys = fc.oneof(fc.string(), fc.constantFrom("id", "reason", "timestamp", "0", "12", "__proto__", "toJSON"));
    fc.assert(
      fc.property(fc.array(fc.dictionary(keys, value), { minLength: 1, maxLength: 8 }), (objects) => {
        const encoder = new DecisionEncoder();
        for (const o of [...objects, ...objects]) {
          const out = encoded(encoder, o);
          if (out !== UNSUPPORTED) expect(out).toBe(JSON.stringify(o));
        }
      }),
    );
  });

  it("leaves nested values, toJSON, other prototypes, getters that change the keys and BigInt to JSON.stringify", () => {
    const encoder = new DecisionEncoder();
    const base = { id: "a", reason: "r" };
    expect(encoded(encoder, base)).toBe(JSON.stringify(base));
    expect(encoded(encoder, { ...base, extra: { nested: true } })).toBe(UNSUPPORTED);
    expect(encoded(encoder, { ...base, toJSON: () => "x" })).toBe(UNSUPPORTED);
    expect(encoded(encoder, Object.assign(Object.create(null), base))).toBe(UNSUPPORTED);
    expect(encoded(encoder, Object.assign(Object.create({ inherited: "x" }), base))).toBe(UNSUPPORTED);
    expect(encoded(encoder, { ...base, n: 1n })).toBe(UNSUPPORTED);
    const sneaky = {
      id: "a",
      get reason() {
        (this as Record<string, unknown>).late = "added";
        return "r";
      },
      other: "o",
    };
    const out = encoded(encoder, sneaky);
    if (out !== UNSUPPORTED) expect(out).toBe('{"id":"a","reason":"r","other":"o"}');
  });

  it("an enumerable key on a polluted Object.prototype is never written (JSON.stringify does not write it)", () => {
    const encoder = new DecisionEncoder();
    const full = makeDecision({
      id: "1",
      type: "allow",
      code: "allowed",
      agentId: "a",
      agentName: "n",
      action: "tool_use",
      target: "t",
      reason: "r",
      timestamp: "2026-01-01T00:00:00.000Z",
      policy: "p",
      callId: "c",
    });
    expect(encoded(encoder, full)).toBe(JSON.stringify(full));
    const { callId: _, ...withoutCall } = full;
    const proto = Object.prototype as Record<string, unknown>;
    proto.callId = "polluted";
    try {
      const out = encoded(encoder, withoutCall);
      expect(out === UNSUPPORTED || out === JSON.stringify(withoutCall)).toBe(true);
      expect(String(out)).not.toContain("polluted");
    } finally {
      delete proto.callId;
    }
  });

  it("answers NO_ROOM instead of writing past its limit, at every limit", () => {
    const encoder = new DecisionEncoder();
    const d = makeDecision({
      id: "00000000-0000-0000-0000-000000000001",
      type: "deny",
      code: "rate_limit",
      agentId: "agent",
      agentName: 'the "agent"',
      action: "llm_call",
      target: undefined,
      reason: "limit é reached",
      timestamp: "2026-01-01T00:00:00.000Z",
      policy: "p",
      retryAfterMs: 1500,
    });
    const json = JSON.stringify(d);
    for (let pass = 0; pass < 2; pass++) {
      // Twice: the second pass copies the kept runs.
      for (let room = 0; room < Buffer.byteLength(json) + 8; room++) {
        const out = encoded(encoder, d, room);
        expect(out === NO_ROOM || out === json).toBe(true);
        if (room >= 3 * json.length) expect(out).toBe(json);
      }
    }
  });
});

describe("DecisionEncoder and a gate's ids (written from their parts)", () => {
  it("the same bytes for fresh, stale and copied ids of interleaved gates, across new id bases", () => {
    const encoder = new DecisionEncoder();
    // More publishing gates than the encoder keeps id bases for, and one that does not publish.
    const gates = Array.from({ length: 6 }, (_, i) => new DecisionIds(i !== 5));
    const template = logDecision(1);
    const made: Decision[] = [];
    let seed = 7;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      // Mostly one gate (its base rolls over every 4096 ids), now and then another.
      const id = gates[seed % 8 < 3 ? seed % 6 : 0]!.next();
      const d = Object.freeze({ ...template, id });
      made.push(d);
      expect(encoded(encoder, d)).toBe(JSON.stringify(d));
      if (i % 97 === 0) {
        // An older decision (its id is no longer the last one made) and an equal id that is another string.
        const old = made[seed % made.length]!;
        expect(encoded(encoder, old)).toBe(JSON.stringify(old));
        const copy = Object.freeze({ ...template, id: [...id].join("") });
        expect(encoded(encoder, copy)).toBe(JSON.stringify(copy));
      }
    }
    // Every limit, for a fresh id: NO_ROOM or the whole text, never a byte past the limit.
    const d = Object.freeze({ ...template, id: gates[0]!.next() });
    const json = JSON.stringify(d);
    for (let room = 0; room <= json.length + 2; room++) {
      const out = encoded(encoder, d, room);
      expect(out === NO_ROOM || out === json).toBe(true);
      if (room < json.length || room === json.length + 2) expect(out).toBe(room < json.length ? NO_ROOM : json);
    }
  });
});

describe("JsonlAuditSink with the encoder", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("a gate's records are JSON.stringify of its decisions, across chunk boundaries, and verify", async () => {
    dir = mkdtempSync(join(tmpdir(), "agentgate-encoder-"));
    const path = join(dir, "audit.jsonl");
    const sink = new JsonlAuditSink(path, { fsync: false, onWarning: () => {} });
    const identity = await AgentIdentity.create('bot "one"');
    const policy = new PermissionPolicy({
      name: "p",
      rules: [
        { action: "file_read", allowed: true, allowedTargets: ["/workspace/**"] },
        { action: "llm_call", allowed: true, maxPerMinute: 1_000_000 },
      ],
    });
    const gate = new GateKeeper({ identity, policy, auditSinks: [sink] });
    const made: Decision[] = [];
    const targets = ["/workspace/a.ts", "/etc/passwd", "/workspace/é/😀.md", `/workspace/${"x".repeat(70_000)}`];
    for (let i = 0; i < 3000; i++) {
      made.push(
        i % 5 === 4
          ? await gate.check("llm_call", { callId: `call-${i}` })
          : await gate.check("file_read", targets[i % targets.length]!),
      );
    }
    // Bigger than a chunk (no gate makes one: it clips), written by a caller: JSON.stringify's path.
    const big = { ...made[0]!, reason: "r".repeat(100_000) } as Decision;
    await sink.write(big);
    made.push(big);
    await gate.close();
    const lines = readFileSync(path, "utf8").trimEnd().split("\n");
    const records = lines.filter((l) => l.startsWith('{"decision":'));
    expect(records).toHaveLength(made.length);
    records.forEach((line, i) => {
      expect(line.slice('{"decision":'.length, line.indexOf(',"seq":', line.length - 48))).toBe(
        JSON.stringify(made[i]),
      );
    });
    const verified = await verifyAuditLog(path);
    expect(verified.ok).toBe(true);
  });
});
