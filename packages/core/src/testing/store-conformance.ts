import { afterEach, describe, expect, it } from "vitest";
import { EscalationError } from "../errors/index.js";
import { GateKeeper } from "../gate/gate-keeper.js";
import type { ConsumeRequest, ConsumeResult, EscalationRecord, GateStore, MaybePromise } from "../gate/store.js";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import type { ActionRule } from "../policy/rule.js";
import {
  consumeRequest,
  escalationRecord,
  freshScope,
  settledDecision,
  WINDOW_MS,
  type RequestOptions,
  type Scope,
} from "./fixtures.js";

/** Options of {@link runStoreConformance}. */
export interface StoreConformanceOptions {
  /**
   * Stores returned by separate `makeStore()` calls share one backend (a
   * network store such as Redis). Enables the cases where one store instance
   * writes and another reads, as two processes would.
   */
  shared?: boolean;
  /** Runs after each case for every store it made. Default: `store.close?.()`. */
  cleanup?: (store: GateStore) => MaybePromise<void>;
  /** Timeout of each case in ms. Default 20 000. */
  timeoutMs?: number;
}

const T0 = Date.UTC(2026, 0, 1);
const CONCURRENCY = 100;

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
        expect((await consume(s, { ...a, agentId: globalThis.crypto.randomUUID() }, T0, { denyAfter: 5 })).used).toBe(0);
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
        const again = [await consume(s, sc, later, o), await consume(s, sc, later, o), await consume(s, sc, later, o), await consume(s, sc, later, o)];
        expect(again.map((r) => r.outcome)).toEqual(["allow", "allow", "allow", "rate_limit"]);
      });

      it("treats zero limits as closed", async () => {
        const s = await store();
        expect(await consume(s, freshScope(), T0, { maxPerMinute: 0 })).toMatchObject({ outcome: "rate_limit", retryAfterMs: WINDOW_MS });
        expect(await consume(s, freshScope(), T0, { denyAfter: 0 })).toMatchObject({ outcome: "deny_after", used: 0 });
        expect(await consume(s, freshScope(), T0, { escalateAfter: 0 })).toMatchObject({ outcome: "escalate", used: 0 });
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
        const results = await burst(s, CONCURRENCY, () => consumeRequest(sc, T0, { escalateAfter: 5, maxPerMinute: 20 }));
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
        expect((await s.settleEscalation(record.escalationId, settledDecision(record, true, T0 + 1), false)).ok).toBe(true);
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
        expect(await s.settleEscalation(record.escalationId, settledDecision(record, false, T0 + 3), true)).toMatchObject({ ok: false, reason: "settled" });
        expect((await consume(s, sc, T0 + 4, o)).outcome).toBe("escalate");
        expect(await consume(s, sc, T0 + 5, o)).toMatchObject({ outcome: "rate_limit", retryAfterMs: WINDOW_MS - 5 });
      });
    });

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
        expect(repeat.repeat).toMatchObject({ outcome: "rate_limit", retryAfterMs: 45_000, at: T0 + 15_000, mismatch: false });
        expect(repeat).toMatchObject({ outcome: "rate_limit", retryAfterMs: 45_000 });
      });

      it(`counts one call id once across ${CONCURRENCY} concurrent consumes`, async () => {
        const s = await store();
        const sc = freshScope();
        const results = await burst(s, CONCURRENCY, () => consumeRequest(sc, T0, { denyAfter: 50, call: { id: "same", fingerprint: "fp" } }));
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
        const look = await s.consume(consumeRequest(sc, T0 + 2, { denyAfter: 10, call: { id: "run-2", fingerprint: "fp" } }));
        expect(look.repeat).toBeUndefined();
        const lookAgain = await s.consume(consumeRequest(sc, T0 + 3, { denyAfter: 10, call: { id: "run-2", fingerprint: "fp" } }));
        expect(lookAgain.repeat?.executed).toBeUndefined();
        await s.consume(consumeRequest(sc, T0 + 4, { denyAfter: 10, call: { id: "run-2", fingerprint: "other", execute: true } }));
        const stillNot = await s.consume(consumeRequest(sc, T0 + 5, { denyAfter: 10, call: { id: "run-2", fingerprint: "fp" } }));
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
        expect((await s.settleEscalation(record.escalationId, settledDecision(record, true, T0 + 2), false)).ok).toBe(true);
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
        expect((await other.settleEscalation(record.escalationId, settledDecision(record, true, T0 + 2), false)).ok).toBe(true);
        expect(await claim(s, T0 + 3, "another input")).toBe("mismatch");
        const results = await Promise.all(
          Array.from({ length: CONCURRENCY }, (_, i) => Promise.resolve().then(() => claim(i % 2 ? other : s, T0 + 4))),
        );
        expect(results.filter((r) => r === "claimed")).toHaveLength(1);
        expect(results.filter((r) => r === "replayed")).toHaveLength(CONCURRENCY - 1);
        // A consume repeat reports the run too.
        expect((await consume(s, sc, T0 + 5, { ...o, call: { ...o.call, execute: true } })).repeat?.executed).toBe(true);
        // An unknown call, or one past its life, is never claimed.
        expect(await s.claimCall({ scope: sc, key: `${req.call!.key}-other`, fingerprint: "fp", now: T0, runTtlMs: 1 })).toBe("unknown");
      });

      it("claimCall: a denied escalation and a refused call are not_allowed", async () => {
        const s = await store();
        const sc = freshScope();
        const req = consumeRequest(sc, T0, { escalate: true, call: { id: "denied", fingerprint: "fp" } });
        await s.consume(req);
        const record = escalationRecord(req);
        await s.createEscalation(record, 3_600_000);
        await s.settleEscalation(record.escalationId, settledDecision(record, false, T0 + 1), true);
        expect(await s.claimCall({ scope: sc, key: req.call!.key, fingerprint: "fp", now: T0 + 2, runTtlMs: 1_000 })).toBe("not_allowed");
        const limited = consumeRequest(sc, T0, { denyAfter: 0, call: { id: "limited", fingerprint: "fp" } });
        expect((await s.consume(limited)).outcome).toBe("deny_after");
        expect(await s.claimCall({ scope: sc, key: limited.call!.key, fingerprint: "fp", now: T0 + 2, runTtlMs: 1_000 })).toBe("not_allowed");
      });

      it("an executed call outlives its ttl until runTtlMs from the run, then is forgotten", async () => {
        const s = await store();
        const other = await peer(s);
        const sc = freshScope();
        const o = { denyAfter: 10, call: { id: "ran", fingerprint: "fp", ttlMs: 1_000, execute: true, runTtlMs: 10_000 } };
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
        expect(await other.claimCall({ scope: sc, key: esc.call!.key, fingerprint: "fp", now: T0 + 500, runTtlMs: 20_000 })).toBe("claimed");
        const replay = await consume(s, sc, T0 + 20_000, { escalate: true, call: { id: "approved", fingerprint: "fp", ttlMs: 1_000, execute: true } });
        expect(replay.repeat).toMatchObject({ executed: true, escalationId: esc.escalationId });
        expect((await consume(s, sc, T0 + 20_500, { escalate: true, call: { id: "approved", fingerprint: "fp", ttlMs: 1_000 } })).repeat).toBeUndefined();
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

    describe("escalations", () => {
      async function pending(s: GateStore, o: RequestOptions = { escalate: true }, ttlMs = 3_600_000) {
        const sc = freshScope("deploy");
        const req = consumeRequest(sc, T0, o);
        await s.consume(req);
        const record = escalationRecord(req, ttlMs);
        await s.createEscalation(record, ttlMs);
        return { sc, req, record };
      }

      it("stores a record and returns an equal copy; unknown ids are undefined", async () => {
        const s = await store();
        const other = await peer(s);
        const { record } = await pending(s, { escalate: true, call: { id: "c", fingerprint: "f" } });
        const got = await other.getEscalation(record.escalationId);
        expect(got).toEqual(JSON.parse(JSON.stringify(record)));
        got!.status = "approved";
        (got!.request as { action: string }).action = "tampered";
        expect(await s.getEscalation(record.escalationId)).toEqual(JSON.parse(JSON.stringify(record)));
        expect(await s.getEscalation(globalThis.crypto.randomUUID())).toBeUndefined();
      });

      it("settles a pending escalation once; a second settle reports it settled", async () => {
        const s = await store();
        const other = await peer(s);
        const { record } = await pending(s);
        const decision = settledDecision(record, false, T0 + 1);
        const won = await s.settleEscalation(record.escalationId, decision, true);
        expect(won.ok).toBe(true);
        if (won.ok) expect(won.record).toMatchObject({ status: "denied", settled: decision, escalationId: record.escalationId });
        const lost = await other.settleEscalation(record.escalationId, settledDecision(record, true, T0 + 2), false);
        expect(lost).toMatchObject({ ok: false, reason: "settled" });
        if (!lost.ok) expect(lost.record?.settled).toEqual(decision);
        expect(await s.getEscalation(record.escalationId)).toMatchObject({ status: "denied", settled: decision });
        const { record: r2 } = await pending(s);
        const approved = settledDecision(r2, true, T0 + 3);
        const ok = await s.settleEscalation(r2.escalationId, approved, false);
        expect(ok.ok && ok.record.status).toBe("approved");
      });

      it("reports unknown ids on settle", async () => {
        const s = await store();
        const { record } = await pending(s);
        const res = await s.settleEscalation(globalThis.crypto.randomUUID(), settledDecision(record, true, T0), false);
        expect(res).toMatchObject({ ok: false, reason: "unknown" });
      });

      it("lets exactly one of 20 concurrent settles win", async () => {
        const s = await store();
        const handles = [s, await peer(s), await peer(s)];
        const { sc, record } = await pending(s, { escalate: true, denyAfter: 1 });
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            Promise.resolve().then(() => handles[i % handles.length]!.settleEscalation(record.escalationId, settledDecision(record, i % 2 === 0, T0 + i), true)),
          ),
        );
        const winners = results.filter((r) => r.ok);
        expect(winners).toHaveLength(1);
        const winner = winners[0]!.record!.settled!;
        for (const r of results.filter((x) => !x.ok)) {
          expect(r).toMatchObject({ ok: false, reason: "settled" });
          expect(r.record?.settled).toEqual(winner);
        }
        // Released exactly once: the one use is free again, and only one.
        const after = await consume(s, sc, T0 + 50, { escalate: true, denyAfter: 1 });
        expect(after).toMatchObject({ outcome: "escalate", used: 0 });
        expect((await consume(s, sc, T0 + 51, { escalate: true, denyAfter: 1 })).outcome).toBe("deny_after");
      });

      it("lists pending escalations, not settled or expired ones", async () => {
        const s = await store();
        const other = await peer(s);
        const a = await pending(s);
        const b = await pending(s);
        const c = await pending(s, { escalate: true }, 1_000);
        const ids = async (st: GateStore, now: number) =>
          new Set((await st.listEscalations(now)).map((r) => r.escalationId));
        const mine = (set: Set<string>) => [a, b, c].map((x) => x.record.escalationId).filter((id) => set.has(id));
        expect(mine(await ids(other, T0 + 1))).toEqual([a, b, c].map((x) => x.record.escalationId));
        await s.settleEscalation(a.record.escalationId, settledDecision(a.record, true, T0 + 2), false);
        expect(mine(await ids(other, T0 + 3))).toEqual([b.record.escalationId, c.record.escalationId]);
        // c expires at T0 + 1000.
        expect(mine(await ids(s, T0 + 1_000))).toEqual([b.record.escalationId]);
        const listed = (await other.listEscalations(T0 + 4)).find((r) => r.escalationId === b.record.escalationId);
        expect(listed).toEqual(JSON.parse(JSON.stringify(b.record)));
      });
      it("narrows a listing to one agent's escalations, one call's, and pages through them in expiry order", async () => {
        const s = await store();
        const other = await peer(s);
        const a = freshScope("deploy");
        const b = freshScope("deploy");
        const raise = async (sc: typeof a, ttlMs: number, callId?: string) => {
          const req = consumeRequest(sc, T0, { escalate: true, ...(callId ? { call: { id: callId, fingerprint: "f" } } : {}) });
          await s.consume(req);
          const record = escalationRecord(req, ttlMs);
          if (req.call) record.callKey = req.call.key;
          await s.createEscalation(record, ttlMs);
          return record;
        };
        // Two share an expiry: the escalation id breaks the tie.
        const mine = [await raise(a, 5_000), await raise(a, 2_000, "the-call"), await raise(a, 9_000), await raise(a, 5_000), await raise(a, 7_000)];
        const theirs = await raise(b, 1_000);
        const order = mine
          .slice()
          .sort((x, y) => x.expiresAt - y.expiresAt || (x.escalationId < y.escalationId ? -1 : 1))
          .map((r) => r.escalationId);
        const scope = { policy: a.policy, agentId: a.agentId };
        const ids = (rs: EscalationRecord[]) => rs.filter((r) => r.decision.agentId === a.agentId).map((r) => r.escalationId);
        const all = ids(await other.listEscalations(T0 + 1, { scope }));
        expect(new Set(all)).toEqual(new Set(order));
        // Pages of two, each resuming after the last one seen.
        const paged: string[] = [];
        let after: EscalationRecord | undefined;
        for (let i = 0; i < 5; i++) {
          const page = (await other.listEscalations(T0 + 1, { scope, limit: 2, ...(after ? { after } : {}) })).filter((r) => r.decision.agentId === a.agentId);
          if (page.length === 0) break;
          expect(page.length).toBeLessThanOrEqual(2);
          paged.push(...page.map((r) => r.escalationId));
          after = page.at(-1);
        }
        expect(paged).toEqual(order);
        const byCall = ids(await other.listEscalations(T0 + 1, { scope, callKey: mine[1]!.callKey! }));
        expect(byCall).toEqual([mine[1]!.escalationId]);
        expect((await other.listEscalations(T0 + 1, { scope: { policy: b.policy, agentId: b.agentId } })).map((r) => r.escalationId)).toContain(theirs.escalationId);
        await s.settleEscalation(mine[0]!.escalationId, settledDecision(mine[0]!, true, T0 + 2), false);
        expect(ids(await other.listEscalations(T0 + 3, { scope }))).not.toContain(mine[0]!.escalationId);
        // Expired ones (the 2 s one) leave the listing.
        expect(new Set(ids(await s.listEscalations(T0 + 2_000, { scope })))).toEqual(new Set([mine[2], mine[3], mine[4]].map((r) => r!.escalationId)));
      });
    });

    describe("through a GateKeeper", () => {
      async function gates(rules: ActionRule[], opts: { approvalTtlMs?: number } = {}) {
        let now = T0;
        const clock = () => now;
        const identity = await AgentIdentity.create("conformance-bot");
        const policy = new PermissionPolicy({ name: `conformance-${globalThis.crypto.randomUUID()}`, rules });
        const s1 = await store();
        const s2 = await peer(s1);
        const gate = new GateKeeper({ identity, policy, store: s1, clock, ...opts });
        // Another worker: same agent and policy, its own gate (and store handle when shared).
        const other = new GateKeeper({ identity, policy, store: s2, clock, ...opts });
        return { gate, other, advance: (ms: number) => (now += ms) };
      }

      it(`${CONCURRENCY} concurrent checks against maxPerMinute 10 give exactly 10 ALLOW`, async () => {
        const { gate, other, advance } = await gates([{ action: "llm_call", allowed: true, maxPerMinute: 10 }]);
        const decisions = await Promise.all(
          Array.from({ length: CONCURRENCY }, (_, i) => (i % 2 ? gate : other).check("llm_call")),
        );
        expect(decisions.filter((d) => d.type === "allow")).toHaveLength(10);
        const denied = decisions.filter((d) => d.type === "deny");
        expect(denied).toHaveLength(CONCURRENCY - 10);
        for (const d of denied) expect(d).toMatchObject({ code: "rate_limit", retryAfterMs: WINDOW_MS });
        expect(decisions.every((d) => d.mode === undefined)).toBe(true);
        advance(WINDOW_MS);
        expect((await gate.check("llm_call")).type).toBe("allow");
      });

      it("denyAfter holds across gates sharing the store", async () => {
        const { gate, other } = await gates([{ action: "tool_use", allowed: true, denyAfter: 3 }]);
        const decisions = await Promise.all(
          Array.from({ length: 30 }, (_, i) => (i % 2 ? gate : other).check("tool_use", "search")),
        );
        expect(decisions.filter((d) => d.type === "allow")).toHaveLength(3);
        expect(decisions.filter((d) => d.code === "deny_after")).toHaveLength(27);
      });

      it("an escalation raised by one gate is resolved by another, and the re-check sees it", async () => {
        const { gate, other } = await gates([{ action: "tool_use", allowed: true, escalateTargets: ["deploy"], denyAfter: 5 }]);
        const call = { toolName: "deploy", input: { env: "prod" }, callId: "call-1" };
        const raised = await gate.checkToolCall(call);
        expect(raised).toMatchObject({ type: "escalate", callId: "call-1" });
        const listed = await other.pendingEscalations();
        expect(listed).toContainEqual(expect.objectContaining({ escalationId: raised.escalationId, callId: "call-1", args: { env: "prod" } }));
        // Before it is resolved, the re-check still escalates with the same ids.
        const again = await gate.checkToolCall(call);
        expect(again).toMatchObject({ type: "escalate", id: raised.id, escalationId: raised.escalationId });
        const resolved = await other.resolveEscalation(raised.escalationId!, { approved: true, approvedBy: "alice" });
        expect(resolved).toMatchObject({ type: "allow", code: "approved", approvedBy: "alice", callId: "call-1" });
        const resumed = await gate.checkToolCall(call);
        expect(resumed).toEqual(resolved);
        await expect(gate.resolveEscalation(raised.escalationId!, { approved: false })).rejects.toSatisfy(
          (e: unknown) => EscalationError.isInstance(e) && e.code === "AGENTGATE_ESCALATION_SETTLED",
        );
        expect((await gate.pendingEscalations()).map((r) => r.escalationId)).not.toContain(raised.escalationId);
        // The same call id with another input never inherits the approval.
        expect(await gate.checkToolCall({ ...call, input: { env: "staging" } })).toMatchObject({ type: "deny", code: "call_mismatch" });
      });

      it("pendingEscalations shows one agent's own escalations, finds one call's, and pages", async () => {
        const { gate, other } = await gates([{ action: "shell", allowed: true, requireApproval: true }]);
        const stranger = new GateKeeper({ identity: await AgentIdentity.create("other-bot"), policy: gate.policy, store: gate.store });
        const theirs = await stranger.check("shell", { target: "ls", callId: "s1" });
        const raised = [];
        for (let i = 0; i < 5; i++) raised.push(await gate.check("shell", { target: `t${i}`, callId: `c${i}` }));
        const ids = raised.map((d) => d.escalationId);
        const listed = (await other.pendingEscalations()).map((r) => r.escalationId);
        expect(new Set(listed)).toEqual(new Set(ids));
        expect(listed).not.toContain(theirs.escalationId);
        expect((await other.pendingEscalations({ callId: "c3" })).map((r) => r.escalationId)).toEqual([raised[3]!.escalationId]);
        expect(await other.pendingEscalations({ callId: "nope" })).toEqual([]);
        const first = await other.pendingEscalations({ limit: 2 });
        const second = await other.pendingEscalations({ limit: 2, after: first.at(-1)!.escalationId });
        const third = await other.pendingEscalations({ limit: 2, after: second.at(-1)!.escalationId });
        expect([...first, ...second, ...third].map((r) => r.escalationId)).toEqual(listed);
        expect(third).toHaveLength(1);
        await expect(other.pendingEscalations({ after: "never-raised" })).rejects.toSatisfy(
          (e: unknown) => EscalationError.isInstance(e) && e.code === "AGENTGATE_ESCALATION_UNKNOWN",
        );
        await expect(other.pendingEscalations({ limit: 0 })).rejects.toThrow(TypeError);
      });

      it("an approved call runs once across gates; a replay in another worker is refused", async () => {
        const { gate, other } = await gates([{ action: "tool_use", allowed: true, requireApproval: true }]);
        const call = { toolName: "deploy", input: { env: "prod" }, callId: "run-once" };
        const raised = await gate.checkToolCall(call);
        await other.resolveEscalation(raised.escalationId!, { approved: true, approvedBy: "alice" });
        expect((await gate.checkToolCall({ ...call, execute: true })).type).toBe("allow");
        expect(await other.checkToolCall({ ...call, execute: true })).toMatchObject({ type: "deny", code: "call_replayed" });
      });

      it("exactly one of several concurrent resolveEscalation calls wins", async () => {
        const { gate, other } = await gates([{ action: "shell", allowed: true, requireApproval: true }]);
        const raised = await gate.check("shell", { target: "ls", callId: "c" });
        const attempts = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) => (i % 2 ? gate : other).resolveEscalation(raised.escalationId!, { approved: i % 3 === 0, approvedBy: `human-${i}` })),
        );
        const won = attempts.filter((a) => a.status === "fulfilled");
        expect(won).toHaveLength(1);
        for (const a of attempts) {
          if (a.status === "rejected") expect(EscalationError.isInstance(a.reason)).toBe(true);
        }
        expect(await gate.check("shell", { target: "ls", callId: "c" })).toEqual((won[0] as PromiseFulfilledResult<unknown>).value);
      });

      it("a denied escalation gives its use back; an approved one keeps it", async () => {
        const { gate, other } = await gates([{ action: "file_write", allowed: true, requireApproval: true, denyAfter: 1 }]);
        const first = await gate.check("file_write", "/tmp/a");
        expect(first.type).toBe("escalate");
        expect(await other.check("file_write", "/tmp/b")).toMatchObject({ type: "deny", code: "deny_after" });
        expect(await other.resolveEscalation(first.escalationId!, { approved: false, reason: "no" })).toMatchObject({ type: "deny", code: "approval_denied" });
        const second = await gate.check("file_write", "/tmp/c");
        expect(second.type).toBe("escalate");
        expect((await gate.resolveEscalation(second.escalationId!, true)).type).toBe("allow");
        expect(await other.check("file_write", "/tmp/d")).toMatchObject({ type: "deny", code: "deny_after" });
      });

      it("an escalation past approvalTtlMs is no longer listed, and a late approval is a DENY", async () => {
        const { gate, other, advance } = await gates([{ action: "network", allowed: true, requireApproval: true }], { approvalTtlMs: 1_000 });
        const raised = await gate.check("network", { target: "https://example.com/", callId: "n1" });
        expect((await other.pendingEscalations()).map((r) => r.escalationId)).toContain(raised.escalationId);
        advance(1_001);
        expect((await other.pendingEscalations()).map((r) => r.escalationId)).not.toContain(raised.escalationId);
        const late = await other.resolveEscalation(raised.escalationId!, { approved: true, approvedBy: "bob" });
        expect(late).toMatchObject({ type: "deny", code: "approval_expired" });
      });

      it("an inline-approved call checked to run at once through two gates runs once; both answers are audited", async () => {
        const identity = await AgentIdentity.create("conformance-bot");
        const policy = new PermissionPolicy({ name: `conformance-${globalThis.crypto.randomUUID()}`, rules: [{ action: "tool_use", allowed: true, requireApproval: true }] });
        const s = await store();
        const make = async (by: string) =>
          new GateKeeper({
            identity,
            policy,
            store: await peer(s),
            approvalHandler: async () => {
              await new Promise((r) => setTimeout(r, 25));
              return { approved: true, approvedBy: by };
            },
          });
        const [a, b] = [await make("alice"), await make("bob")];
        const call = { toolName: "deploy", input: { env: "prod" }, callId: "once", execute: true };
        const all = await Promise.all([a, b, a, b, a, b].map((g) => g.checkToolCall(call)));
        expect(all.filter((d) => d.type === "allow")).toHaveLength(1);
        expect(all.filter((d) => d.code === "call_replayed")).toHaveLength(5);
        const audited = [...a.decisions, ...b.decisions];
        expect(audited.filter((d) => d.code === "approved")).toHaveLength(1);
        // Each gate asked at most once; an answer that lost is on record.
        const answers = audited.filter((d) => d.code === "approved" || d.code === "approval_superseded");
        expect(answers.length).toBeGreaterThanOrEqual(1);
        expect(answers.length).toBeLessThanOrEqual(2);
      });

      it("an inline approval handler settles through the store", async () => {
        let now = T0;
        const identity = await AgentIdentity.create("conformance-bot");
        const policy = new PermissionPolicy({ name: `conformance-${globalThis.crypto.randomUUID()}`, rules: [{ action: "data_access", allowed: true, requireApproval: true, denyAfter: 1 }] });
        const s = await store();
        const asked: string[] = [];
        const gate = new GateKeeper({
          identity,
          policy,
          store: s,
          clock: () => now,
          approvalHandler: (req) => {
            asked.push(req.escalationId);
            return { approved: req.target === "ok", approvedBy: "carol" };
          },
        });
        expect(await gate.check("data_access", "nope")).toMatchObject({ type: "deny", code: "approval_denied" });
        now += 1;
        expect(await gate.check("data_access", "ok")).toMatchObject({ type: "allow", approvedBy: "carol" });
        expect(await gate.check("data_access", "ok")).toMatchObject({ type: "deny", code: "deny_after" });
        expect(asked).toHaveLength(2);
        expect(await s.getEscalation(asked[1]!)).toMatchObject({ status: "approved" });
      });
    });
  });
}
