import { afterEach, describe, expect, it } from "vitest";
import type { ConsumeRequest, ConsumeResult, GateStore } from "../gate/store.js";
import { callRecordCases } from "./conformance-call-records.js";
import { CONCURRENCY, T0, type ConformanceContext, type StoreConformanceOptions } from "./conformance-context.js";
import { escalationCases } from "./conformance-escalations.js";
import { unrecordedEscalationCases } from "./conformance-unrecorded.js";
import {
  consumeRequest,
  escalationRecord,
  freshScope,
  settledDecision,
  WINDOW_MS,
  type RequestOptions,
  type Scope,
} from "./fixtures.js";

export type { ConformanceContext, StoreConformanceOptions } from "./conformance-context.js";

/**
 * Registers a vitest `describe` block proving that a {@link GateStore} keeps
 * the contract `GateKeeper` relies on: exact limits under concurrency, a
 * sliding window, thresholds, reservations, per-call records and
 * exactly-once escalations, directly and through a real `GateKeeper`.
 *
 * Each case uses fresh policy names and agent ids, so a shared backend needs
 * no flushing between cases.
 *
 * @example
 * ```ts
 * import { runStoreConformance } from "@agentgate/core/testing";
 * runStoreConformance("MyStore", () => new MyStore());
 * ```
 */
export function runStoreConformance(
  name: string,
  makeStore: () => GateStore | Promise<GateStore>,
  options: StoreConformanceOptions = {},
): void {
  const made: GateStore[] = [];
  const cleanup = options.cleanup ?? ((s: GateStore) => s.close?.());
  const timeout = options.timeoutMs ?? 20_000;

  async function store(): Promise<GateStore> {
    const s = await makeStore();
    made.push(s);
    return s;
  }

  /** A second handle on the same state: another instance when shared, else the same one. */
  async function peer(s: GateStore): Promise<GateStore> {
    return options.shared ? store() : s;
  }

  const consume = async (s: GateStore, sc: Scope, now: number, o?: RequestOptions): Promise<ConsumeResult> =>
    s.consume(consumeRequest(sc, now, o));

  /** Runs `n` consumes at once (each started without awaiting the others). */
  async function burst(s: GateStore, n: number, make: (i: number) => ConsumeRequest): Promise<ConsumeResult[]> {
    return Promise.all(Array.from({ length: n }, (_, i) => Promise.resolve().then(() => s.consume(make(i)))));
  }

  const count = (results: readonly ConsumeResult[], outcome: ConsumeResult["outcome"]) =>
    results.filter((r) => r.outcome === outcome && !r.repeat).length;

  const ctx: ConformanceContext = { options, store, peer, consume, burst };

  describe(`GateStore conformance: ${name}`, { timeout }, () => {
    afterEach(async () => {
      const stores = made.splice(0);
      for (const s of stores) await cleanup(s);
    });

    describe("limits", () => {
      it("allows and counts uses, one counter per policy, agent and action", async () => {
        const s = await store();
        const a = freshScope("tool_use");
        const r1 = await consume(s, a, T0, { denyAfter: 5 });
        const r2 = await consume(s, a, T0, { denyAfter: 5 });
        expect(r1).toMatchObject({ outcome: "allow", used: 0 });
        expect(r2).toMatchObject({ outcome: "allow", used: 1 });
        expect(r1.repeat).toBeUndefined();
        expect(r1.fallback).toBeFalsy();
        // Another action, agent or policy starts from zero.
        expect((await consume(s, { ...a, action: "llm_call" }, T0, { denyAfter: 5 })).used).toBe(0);
        expect((await consume(s, { ...a, agentId: globalThis.crypto.randomUUID() }, T0, { denyAfter: 5 })).used).toBe(
          0,
        );
        expect((await consume(s, { ...a, policy: `${a.policy}-2` }, T0, { denyAfter: 5 })).used).toBe(0);
        expect((await consume(s, a, T0, { denyAfter: 5 })).used).toBe(2);
      });

      it(`admits exactly maxPerMinute of ${CONCURRENCY} concurrent consumes`, async () => {
        const s = await store();
        const sc = freshScope();
        const results = await burst(s, CONCURRENCY, () => consumeRequest(sc, T0, { maxPerMinute: 10 }));
        expect(count(results, "allow")).toBe(10);
        expect(count(results, "rate_limit")).toBe(CONCURRENCY - 10);
        for (const r of results.filter((x) => x.outcome === "rate_limit")) {
          expect(r.retryAfterMs).toBe(WINDOW_MS);
        }
        // A rate-only request has no threshold that reads uses, so none are counted.
        expect(new Set(results.map((r) => r.used))).toEqual(new Set([0]));
      });

      it(`admits exactly denyAfter of ${CONCURRENCY} concurrent consumes, and never more later`, async () => {
        const s = await store();
        const other = await peer(s);
        const sc = freshScope();
        const results = await burst(s, CONCURRENCY, (i) => consumeRequest(sc, T0 + i, { denyAfter: 7 }));
        expect(count(results, "allow")).toBe(7);
        expect(count(results, "deny_after")).toBe(CONCURRENCY - 7);
        const later = await consume(other, sc, T0 + 10 * WINDOW_MS, { denyAfter: 7 });
        expect(later).toMatchObject({ outcome: "deny_after", used: 7 });
        expect(later.retryAfterMs).toBeUndefined();
      });

      it("splits one limit exactly across two store handles consuming at once", async () => {
        const a = await store();
        const b = await peer(a);
        const sc = freshScope();
        const results = await burst(a, CONCURRENCY, (i) => consumeRequest(sc, T0, { maxPerMinute: 13, denyAfter: 50 }));
        const more = await burst(b, CONCURRENCY, () => consumeRequest(sc, T0 + 1, { maxPerMinute: 13, denyAfter: 50 }));
        expect(count([...results, ...more], "allow")).toBe(13);
      });

      it("slides the window as now moves, with exact retryAfterMs", async () => {
        const s = await store();
        const sc = freshScope();
        const o = { maxPerMinute: 3 };
        expect((await consume(s, sc, T0, o)).outcome).toBe("allow");
        expect((await consume(s, sc, T0 + 10_000, o)).outcome).toBe("allow");
        expect((await consume(s, sc, T0 + 20_000, o)).outcome).toBe("allow");
        expect(await consume(s, sc, T0 + 30_000, o)).toMatchObject({ outcome: "rate_limit", retryAfterMs: 30_000 });
        expect(await consume(s, sc, T0 + 59_999, o)).toMatchObject({ outcome: "rate_limit", retryAfterMs: 1 });
        // At exactly T0 + 60 s the first use has left the window.
        expect((await consume(s, sc, T0 + 60_000, o)).outcome).toBe("allow");
        expect(await consume(s, sc, T0 + 60_000, o)).toMatchObject({ outcome: "rate_limit", retryAfterMs: 10_000 });
        // Denied attempts are not counted: a full window later, three pass again.
        const later = T0 + 60_000 + WINDOW_MS;
        const again = [
          await consume(s, sc, later, o),
          await consume(s, sc, later, o),
          await consume(s, sc, later, o),
          await consume(s, sc, later, o),
        ];
        expect(again.map((r) => r.outcome)).toEqual(["allow", "allow", "allow", "rate_limit"]);
      });

      it("treats zero limits as closed", async () => {
        const s = await store();
        expect(await consume(s, freshScope(), T0, { maxPerMinute: 0 })).toMatchObject({
          outcome: "rate_limit",
          retryAfterMs: WINDOW_MS,
        });
        expect(await consume(s, freshScope(), T0, { denyAfter: 0 })).toMatchObject({ outcome: "deny_after", used: 0 });
        expect(await consume(s, freshScope(), T0, { escalateAfter: 0 })).toMatchObject({
          outcome: "escalate",
          used: 0,
        });
      });

      it("checks denyAfter before maxPerMinute, and both before escalation", async () => {
        const s = await store();
        const sc = freshScope();
        const o = { maxPerMinute: 2, denyAfter: 2, escalate: true };
        expect((await consume(s, sc, T0, o)).outcome).toBe("escalate");
        expect((await consume(s, sc, T0, o)).outcome).toBe("escalate");
        expect((await consume(s, sc, T0, o)).outcome).toBe("deny_after");
        const sc2 = freshScope();
        const o2 = { maxPerMinute: 1, escalate: true };
        expect((await consume(s, sc2, T0, o2)).outcome).toBe("escalate");
        expect((await consume(s, sc2, T0, o2)).outcome).toBe("rate_limit");
      });

      it("escalates after escalateAfter uses, and escalations reserve uses too", async () => {
        const s = await store();
        const sc = freshScope();
        const o = { escalateAfter: 2, denyAfter: 4 };
        const outcomes = [];
        for (let i = 0; i < 6; i++) outcomes.push(await consume(s, sc, T0 + i, o));
        expect(outcomes.map((r) => [r.outcome, r.used])).toEqual([
          ["allow", 0],
          ["allow", 1],
          ["escalate", 2],
          ["escalate", 3],
          ["deny_after", 4],
          ["deny_after", 4],
        ]);
      });

      it(`escalates exactly the uses past escalateAfter of ${CONCURRENCY} concurrent consumes`, async () => {
        const s = await store();
        const sc = freshScope();
        const results = await burst(s, CONCURRENCY, () =>
          consumeRequest(sc, T0, { escalateAfter: 5, maxPerMinute: 20 }),
        );
        expect(count(results, "allow")).toBe(5);
        expect(count(results, "escalate")).toBe(15);
        expect(count(results, "rate_limit")).toBe(CONCURRENCY - 20);
      });
    });

    describe("reservations", () => {
      it("settle with release gives back the use in the window and in the total", async () => {
        const s = await store();
        const sc = freshScope();
        const o = { maxPerMinute: 1, denyAfter: 1, escalate: true };
        const req = consumeRequest(sc, T0, o);
        expect((await s.consume(req)).outcome).toBe("escalate");
        const record = escalationRecord(req);
        await s.createEscalation(record, 3_600_000);
        expect((await consume(s, sc, T0 + 1, o)).outcome).toBe("deny_after");
        const settled = await s.settleEscalation(record.escalationId, settledDecision(record, false, T0 + 2), true);
        expect(settled.ok).toBe(true);
        expect(await consume(s, sc, T0 + 3, o)).toMatchObject({ outcome: "escalate", used: 0 });
      });

      it("settle with release frees the window slot of a rate-only rule", async () => {
        const s = await store();
        const sc = freshScope();
        const o = { maxPerMinute: 1, escalate: true };
        const req = consumeRequest(sc, T0, o);
        await s.consume(req);
        const record = escalationRecord(req);
        await s.createEscalation(record, 3_600_000);
        expect((await consume(s, sc, T0 + 1, o)).outcome).toBe("rate_limit");
        await s.settleEscalation(record.escalationId, settledDecision(record, false, T0 + 2), true);
        expect((await consume(s, sc, T0 + 3, o)).outcome).toBe("escalate");
      });

      it("settle without release (an approval) keeps the reservation", async () => {
        const s = await store();
        const sc = freshScope();
        const o = { maxPerMinute: 5, denyAfter: 1, escalate: true };
        const req = consumeRequest(sc, T0, o);
        await s.consume(req);
        const record = escalationRecord(req);
        await s.createEscalation(record, 3_600_000);
        expect((await s.settleEscalation(record.escalationId, settledDecision(record, true, T0 + 1), false)).ok).toBe(
          true,
        );
        expect(await consume(s, sc, T0 + 2, o)).toMatchObject({ outcome: "deny_after", used: 1 });
      });

      it("releases only the settled reservation, once", async () => {
        const s = await store();
        const sc = freshScope();
        const o = { maxPerMinute: 3, escalate: true };
        const reqs = [consumeRequest(sc, T0, o), consumeRequest(sc, T0 + 1, o), consumeRequest(sc, T0 + 2, o)];
        for (const r of reqs) await s.consume(r);
        const record = escalationRecord(reqs[1]!);
        await s.createEscalation(record, 3_600_000);
        await s.settleEscalation(record.escalationId, settledDecision(record, false, T0 + 3), true);
        // A second settle must not release again.
        expect(
          await s.settleEscalation(record.escalationId, settledDecision(record, false, T0 + 3), true),
        ).toMatchObject({ ok: false, reason: "settled" });
        expect((await consume(s, sc, T0 + 4, o)).outcome).toBe("escalate");
        expect(await consume(s, sc, T0 + 5, o)).toMatchObject({ outcome: "rate_limit", retryAfterMs: WINDOW_MS - 5 });
      });
    });

    callRecordCases(ctx);
    escalationCases(ctx);
    unrecordedEscalationCases(ctx);
  });
}
