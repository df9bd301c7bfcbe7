import { describe, expect, it } from "vitest";
import type { GateStore } from "../gate/store.js";
import { CONCURRENCY, T0, type ConformanceContext } from "./conformance-context.js";
import { consumeRequest, escalationRecord, freshScope, settledDecision, WINDOW_MS } from "./fixtures.js";

/** Per-call records: repeats, mismatches, the one run of a call and how long it is remembered. */
export function callRecordCases({ store, peer, consume, burst }: ConformanceContext): void {
  describe("call records", () => {
    it("a repeat returns the original record and counts nothing", async () => {
      const s = await store();
      const other = await peer(s);
      const sc = freshScope();
      const o = { maxPerMinute: 2, denyAfter: 10, call: { id: "c1", fingerprint: "fp-1" } };
      const first = consumeRequest(sc, T0, o);
      expect(await s.consume(first)).toMatchObject({ outcome: "allow", used: 0 });
      const again = await other.consume(consumeRequest(sc, T0 + 500, o));
      expect(again).toMatchObject({ outcome: "allow", used: 0 });
      expect(again.repeat).toMatchObject({
        outcome: "allow",
        used: 0,
        decisionId: first.decisionId,
        escalationId: first.escalationId,
        at: T0,
        fingerprint: "fp-1",
        mismatch: false,
      });
      expect(again.repeat!.settled).toBeUndefined();
      // Only the first counted: one more distinct call fits under maxPerMinute 2.
      expect((await consume(s, sc, T0 + 1, { maxPerMinute: 2 })).outcome).toBe("allow");
      expect((await consume(s, sc, T0 + 2, { maxPerMinute: 2 })).outcome).toBe("rate_limit");
    });

    it("the same call id with another fingerprint is a mismatch", async () => {
      const s = await store();
      const sc = freshScope();
      const first = consumeRequest(sc, T0, { denyAfter: 3, call: { id: "c1", fingerprint: "fp-1" } });
      await s.consume(first);
      const other = await consume(s, sc, T0 + 1, { denyAfter: 3, call: { id: "c1", fingerprint: "fp-2" } });
      expect(other.repeat).toMatchObject({ mismatch: true, fingerprint: "fp-1", decisionId: first.decisionId });
      expect((await consume(s, sc, T0 + 2, { denyAfter: 3 })).used).toBe(1);
    });

    it("a refused call repeats as refused, with its retryAfterMs", async () => {
      const s = await store();
      const sc = freshScope();
      await consume(s, sc, T0, { maxPerMinute: 1 });
      const o = { maxPerMinute: 1, call: { id: "late", fingerprint: "fp" } };
      const denied = await consume(s, sc, T0 + 15_000, o);
      expect(denied).toMatchObject({ outcome: "rate_limit", retryAfterMs: 45_000 });
      // Even once the window has room again, the call keeps its decision.
      const repeat = await consume(s, sc, T0 + 2 * WINDOW_MS, o);
      expect(repeat.repeat).toMatchObject({
        outcome: "rate_limit",
        retryAfterMs: 45_000,
        at: T0 + 15_000,
        mismatch: false,
      });
      expect(repeat).toMatchObject({ outcome: "rate_limit", retryAfterMs: 45_000 });
    });

    it(`counts one call id once across ${CONCURRENCY} concurrent consumes`, async () => {
      const s = await store();
      const sc = freshScope();
      const results = await burst(s, CONCURRENCY, () =>
        consumeRequest(sc, T0, { denyAfter: 50, call: { id: "same", fingerprint: "fp" } }),
      );
      expect(results.filter((r) => !r.repeat)).toHaveLength(1);
      const ids = new Set(results.map((r) => r.repeat?.decisionId ?? "first"));
      expect(ids.size).toBe(2);
      expect((await consume(s, sc, T0, { denyAfter: 50 })).used).toBe(1);
    });

    it("shows the settled decision on a repeat of an escalated call", async () => {
      const s = await store();
      const other = await peer(s);
      const sc = freshScope();
      const o = { escalate: true, denyAfter: 5, call: { id: "esc-call", fingerprint: "fp" } };
      const req = consumeRequest(sc, T0, o);
      expect((await s.consume(req)).outcome).toBe("escalate");
      const record = escalationRecord(req);
      await s.createEscalation(record, 3_600_000);
      const pending = await consume(s, sc, T0 + 1, o);
      expect(pending.repeat).toMatchObject({ outcome: "escalate", escalationId: req.escalationId, mismatch: false });
      expect(pending.repeat!.settled).toBeUndefined();
      const decision = settledDecision(record, true, T0 + 2);
      expect((await other.settleEscalation(record.escalationId, decision, false)).ok).toBe(true);
      const after = await consume(s, sc, T0 + 3, o);
      expect(after.repeat?.settled).toEqual(decision);
      expect(after.repeat?.outcome).toBe("escalate");
    });

    it("marks a call executed once: an allowed execute claim, then repeats report it", async () => {
      const s = await store();
      const other = await peer(s);
      const sc = freshScope();
      const run = { denyAfter: 10, call: { id: "run-1", fingerprint: "fp", execute: true } };
      const first = await s.consume(consumeRequest(sc, T0, run));
      expect(first).toMatchObject({ outcome: "allow" });
      const replay = await other.consume(consumeRequest(sc, T0 + 1, run));
      expect(replay.repeat).toMatchObject({ outcome: "allow", executed: true, mismatch: false });
      // A look without execute also sees it; another input never marks it.
      const look = await s.consume(
        consumeRequest(sc, T0 + 2, { denyAfter: 10, call: { id: "run-2", fingerprint: "fp" } }),
      );
      expect(look.repeat).toBeUndefined();
      const lookAgain = await s.consume(
        consumeRequest(sc, T0 + 3, { denyAfter: 10, call: { id: "run-2", fingerprint: "fp" } }),
      );
      expect(lookAgain.repeat?.executed).toBeUndefined();
      await s.consume(
        consumeRequest(sc, T0 + 4, { denyAfter: 10, call: { id: "run-2", fingerprint: "other", execute: true } }),
      );
      const stillNot = await s.consume(
        consumeRequest(sc, T0 + 5, { denyAfter: 10, call: { id: "run-2", fingerprint: "fp" } }),
      );
      expect(stillNot.repeat?.executed).toBeUndefined();
    });

    it("never marks a pending or denied escalation executed; an approved one once", async () => {
      const s = await store();
      const sc = freshScope();
      const o = { escalate: true, denyAfter: 5, call: { id: "esc-run", fingerprint: "fp", execute: true } };
      const req = consumeRequest(sc, T0, o);
      expect((await s.consume(req)).outcome).toBe("escalate");
      const record = escalationRecord(req);
      await s.createEscalation(record, 3_600_000);
      const pending = await s.consume(consumeRequest(sc, T0 + 1, o));
      expect(pending.repeat?.executed).toBeUndefined();
      expect((await s.settleEscalation(record.escalationId, settledDecision(record, true, T0 + 2), false)).ok).toBe(
        true,
      );
      const run = await s.consume(consumeRequest(sc, T0 + 3, o));
      expect(run.repeat?.executed).toBeUndefined();
      expect(run.repeat?.settled?.type).toBe("allow");
      const replay = await s.consume(consumeRequest(sc, T0 + 4, o));
      expect(replay.repeat?.executed).toBe(true);
    });

    it(`claimCall: exactly one of ${CONCURRENCY} concurrent claims of an approved call wins, across handles`, async () => {
      const s = await store();
      const other = await peer(s);
      const sc = freshScope();
      const o = { escalate: true, call: { id: "claim-me", fingerprint: "fp" } };
      const req = consumeRequest(sc, T0, o);
      await s.consume(req);
      const record = escalationRecord(req);
      await s.createEscalation(record, 3_600_000);
      const claim = (st: GateStore, now: number, fingerprint = "fp") =>
        st.claimCall({ scope: sc, key: req.call!.key, fingerprint, now, runTtlMs: 3_600_000 });
      // Pending, then denied: nothing to claim.
      expect(await claim(s, T0 + 1)).toBe("not_allowed");
      expect((await other.settleEscalation(record.escalationId, settledDecision(record, true, T0 + 2), false)).ok).toBe(
        true,
      );
      expect(await claim(s, T0 + 3, "another input")).toBe("mismatch");
      const results = await Promise.all(
        Array.from({ length: CONCURRENCY }, (_, i) => Promise.resolve().then(() => claim(i % 2 ? other : s, T0 + 4))),
      );
      expect(results.filter((r) => r === "claimed")).toHaveLength(1);
      expect(results.filter((r) => r === "replayed")).toHaveLength(CONCURRENCY - 1);
      // A consume repeat reports the run too.
      expect((await consume(s, sc, T0 + 5, { ...o, call: { ...o.call, execute: true } })).repeat?.executed).toBe(true);
      // An unknown call, or one past its life, is never claimed.
      expect(
        await s.claimCall({ scope: sc, key: `${req.call!.key}-other`, fingerprint: "fp", now: T0, runTtlMs: 1 }),
      ).toBe("unknown");
    });

    it("claimCall: a denied escalation and a refused call are not_allowed", async () => {
      const s = await store();
      const sc = freshScope();
      const req = consumeRequest(sc, T0, { escalate: true, call: { id: "denied", fingerprint: "fp" } });
      await s.consume(req);
      const record = escalationRecord(req);
      await s.createEscalation(record, 3_600_000);
      await s.settleEscalation(record.escalationId, settledDecision(record, false, T0 + 1), true);
      expect(
        await s.claimCall({ scope: sc, key: req.call!.key, fingerprint: "fp", now: T0 + 2, runTtlMs: 1_000 }),
      ).toBe("not_allowed");
      const limited = consumeRequest(sc, T0, { denyAfter: 0, call: { id: "limited", fingerprint: "fp" } });
      expect((await s.consume(limited)).outcome).toBe("deny_after");
      expect(
        await s.claimCall({ scope: sc, key: limited.call!.key, fingerprint: "fp", now: T0 + 2, runTtlMs: 1_000 }),
      ).toBe("not_allowed");
    });

    it("an executed call outlives its ttl until runTtlMs from the run, then is forgotten", async () => {
      const s = await store();
      const other = await peer(s);
      const sc = freshScope();
      const o = {
        denyAfter: 10,
        call: { id: "ran", fingerprint: "fp", ttlMs: 1_000, execute: true, runTtlMs: 10_000 },
      };
      expect((await consume(s, sc, T0, o)).outcome).toBe("allow");
      const later = await consume(other, sc, T0 + 5_000, o);
      expect(later.repeat).toMatchObject({ executed: true, at: T0 });
      expect((await consume(s, sc, T0 + 9_999, o)).repeat?.executed).toBe(true);
      expect((await consume(s, sc, T0 + 10_000, o)).repeat).toBeUndefined();
      // An approved call claimed later keeps its record runTtlMs from the claim.
      const esc = consumeRequest(sc, T0, { escalate: true, call: { id: "approved", fingerprint: "fp", ttlMs: 1_000 } });
      await s.consume(esc);
      const record = escalationRecord(esc, 1_000);
      await s.createEscalation(record, 1_000);
      await s.settleEscalation(record.escalationId, settledDecision(record, true, T0 + 10), false);
      expect(
        await other.claimCall({ scope: sc, key: esc.call!.key, fingerprint: "fp", now: T0 + 500, runTtlMs: 20_000 }),
      ).toBe("claimed");
      const replay = await consume(s, sc, T0 + 20_000, {
        escalate: true,
        call: { id: "approved", fingerprint: "fp", ttlMs: 1_000, execute: true },
      });
      expect(replay.repeat).toMatchObject({ executed: true, escalationId: esc.escalationId });
      expect(
        (
          await consume(s, sc, T0 + 20_500, {
            escalate: true,
            call: { id: "approved", fingerprint: "fp", ttlMs: 1_000 },
          })
        ).repeat,
      ).toBeUndefined();
    });

    it("forgets a call once its ttl has passed (by the request's now)", async () => {
      const s = await store();
      const sc = freshScope();
      const o = { denyAfter: 10, call: { id: "short", fingerprint: "fp", ttlMs: 1_000 } };
      await consume(s, sc, T0, o);
      expect((await consume(s, sc, T0 + 999, o)).repeat).toBeDefined();
      const fresh = await consume(s, sc, T0 + 1_000, o);
      expect(fresh.repeat).toBeUndefined();
      expect(fresh).toMatchObject({ outcome: "allow", used: 1 });
    });
  });
}
