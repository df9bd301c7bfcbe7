import {
  makeDecision,
  MemoryStore,
  type ConsumeRequest,
  type ConsumeResult,
  type EscalationRecord,
  type GateStore,
} from "@agentgate/core";
import fc from "fast-check";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisStore } from "./index.js";
import { deleteKeys } from "./test-utils/keys.js";
import { redisUrl, testPrefix } from "./test-utils/redis-env.js";

// Differential test: for any sequence of checks and settles, RedisStore answers
// exactly like the in-memory reference store (same outcomes, counts,
// retryAfterMs, call records and settlements).

type Op =
  | { kind: "consume"; dt: number; escalate: boolean; call: { id: string; fingerprint: string } | null }
  | { kind: "settle"; pick: number; approve: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("consume" as const),
      dt: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 30_000 }), fc.constant(60_000)),
      escalate: fc.boolean(),
      call: fc.option(fc.record({ id: fc.constantFrom("c1", "c2", "c3"), fingerprint: fc.constantFrom("f1", "f2") }), {
        nil: null,
      }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("settle" as const), pick: fc.nat(), approve: fc.boolean() }) },
);

const limitsArb = fc.record({
  maxPerMinute: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
  denyAfter: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }),
  escalateAfter: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
});

/** What must agree (MemoryStore's repeat also carries its private `expiresAt`: not part of CallRecord). */
function view(r: ConsumeResult) {
  const { repeat, ...rest } = r;
  if (!repeat) return rest;
  const { expiresAt: _, ...record } = JSON.parse(JSON.stringify(repeat)) as Record<string, unknown>;
  return { ...rest, repeat: record };
}

describe.skipIf(redisUrl === null)("RedisStore agrees with MemoryStore", () => {
  const prefix = testPrefix("property");
  let client: Redis;
  beforeAll(() => {
    client = new Redis(redisUrl!);
  });
  afterAll(async () => {
    await deleteKeys(client, prefix);
    await client.quit();
  });

  it("on any sequence of checks and settles", async () => {
    await fc.assert(
      fc.asyncProperty(limitsArb, fc.array(opArb, { minLength: 1, maxLength: 25 }), async (limits, ops) => {
        const redis = new RedisStore({ client, prefix });
        const memory = new MemoryStore();
        const scope = { policy: "prop", agentId: globalThis.crypto.randomUUID(), action: "tool_use" };
        const pending: EscalationRecord[] = [];
        let now = Date.UTC(2026, 0, 1);
        const both = async <T>(f: (s: GateStore) => T | Promise<T>): Promise<[T, T]> => [
          await f(memory),
          await f(redis),
        ];
        for (const op of ops) {
          if (op.kind === "consume") {
            now += op.dt;
            const req: ConsumeRequest = {
              scope,
              key: `prop:${scope.agentId}:tool_use`,
              now,
              windowMs: 60_000,
              escalate: op.escalate,
              decisionId: globalThis.crypto.randomUUID(),
              escalationId: globalThis.crypto.randomUUID(),
              ...limits,
            };
            if (op.call)
              req.call = {
                key: `prop:${scope.agentId}:call:${op.call.id}`,
                fingerprint: op.call.fingerprint,
                ttlMs: 90_000,
              };
            const [m, r] = await both((s) => s.consume(req));
            expect(view(r)).toEqual(view(m));
            if (m.outcome === "escalate" && !m.repeat) {
              const decision = makeDecision({
                id: req.decisionId,
                type: "escalate",
                code: "require_approval",
                agentId: scope.agentId,
                agentName: "p",
                action: "tool_use",
                target: undefined,
                reason: "r",
                timestamp: new Date(now).toISOString(),
                policy: "prop",
                escalationId: req.escalationId,
              });
              const record: EscalationRecord = {
                escalationId: req.escalationId,
                status: "pending",
                decision,
                request: {
                  escalationId: req.escalationId,
                  agent: { id: scope.agentId, name: "p" },
                  action: "tool_use",
                  reason: "r",
                },
                reservation: { key: req.key, scope, member: req.decisionId, at: now },
                createdAt: now,
                expiresAt: now + 90_000,
              };
              if (req.call) record.callKey = req.call.key;
              await both((s) => s.createEscalation(record, 90_000));
              pending.push(record);
            }
          } else if (pending.length > 0) {
            const record = pending[op.pick % pending.length]!;
            const settled = makeDecision({
              ...record.decision,
              target: undefined,
              type: op.approve ? "allow" : "deny",
              code: op.approve ? "approved" : "approval_denied",
            });
            const [m, r] = await both((s) => s.settleEscalation(record.escalationId, settled, !op.approve));
            expect(JSON.parse(JSON.stringify(r))).toEqual(JSON.parse(JSON.stringify(m)));
          }
        }
        const [m, r] = await both((s) => s.listEscalations(now));
        const mine = r.filter((x) => x.request.agent.id === scope.agentId);
        expect(mine.map((x) => x.escalationId).sort()).toEqual(m.map((x) => x.escalationId).sort());
      }),
      { numRuns: 60 },
    );
  });
});
