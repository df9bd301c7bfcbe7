import { describe, expect, it } from "vitest";
import { EscalationError } from "../errors/escalation-error.js";
import { makeDecision, type Decision } from "../gate/decision.js";
import { GateKeeper } from "../gate/gate-keeper.js";
import type { EscalationRecord, GateStore } from "../gate/store.js";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import { T0, type ConformanceContext } from "./conformance-context.js";
import { consumeRequest, escalationRecord, freshScope, settledDecision, type Scope } from "./fixtures.js";

/** The DENY the gate stores when an escalation cannot be recorded. */
function unrecorded(record: EscalationRecord, now: number): Decision {
  const base = record.decision;
  return makeDecision({
    id: globalThis.crypto.randomUUID(),
    type: "deny",
    code: "store_unavailable",
    agentId: base.agentId,
    agentName: base.agentName,
    action: base.action,
    target: base.target,
    reason: "state store unavailable, cannot record the escalation, failing closed: timed out",
    timestamp: new Date(now).toISOString(),
    policy: base.policy,
    callId: base.callId,
  });
}

/** `s` whose first escalation write fails; `landed`: after writing it (a reply lost on the way back). */
function failingFirstWrite(s: GateStore, landed: boolean): GateStore {
  let failed = false;
  const wrapped: GateStore = {
    consume: (r) => s.consume(r),
    claimCall: (r) => s.claimCall(r),
    async createEscalation(record, ttlMs) {
      if (failed) return s.createEscalation(record, ttlMs);
      failed = true;
      if (landed) await s.createEscalation(record, ttlMs);
      throw new Error("the store timed out");
    },
    getEscalation: (id) => s.getEscalation(id),
    settleEscalation: (id, settled, release) => s.settleEscalation(id, settled, release),
    listEscalations: (now, query) => s.listEscalations(now, query),
  };
  if (s.abandonEscalation) wrapped.abandonEscalation = (record, settled) => s.abandonEscalation!(record, settled);
  return wrapped;
}

/** `s` without `abandonEscalation`, as a store that does not implement it. */
function withoutAbandon(s: GateStore): GateStore {
  return {
    consume: (r) => s.consume(r),
    claimCall: (r) => s.claimCall(r),
    createEscalation: (record, ttlMs) => s.createEscalation(record, ttlMs),
    getEscalation: (id) => s.getEscalation(id),
    settleEscalation: (id, settled, release) => s.settleEscalation(id, settled, release),
    listEscalations: (now, query) => s.listEscalations(now, query),
  };
}

/**
 * `abandonEscalation` (optional in `GateStore`; skipped for a store without it): an escalation
 * whose write failed ends its call as a DENY, in every process, with its reservation given back once.
 */
export function unrecordedEscalationCases({ store, peer }: ConformanceContext): void {
  describe("escalations that could not be recorded (abandonEscalation)", () => {
    /** A call recorded as ESCALATE, with one use of `denyAfter: 1` reserved, and its escalation (not written). */
    async function escalatedCall(s: GateStore, sc: Scope = freshScope("deploy")) {
      const req = consumeRequest(sc, T0, { escalate: true, denyAfter: 1, call: { id: "c", fingerprint: "f" } });
      expect(await s.consume(req)).toMatchObject({ outcome: "escalate", used: 0 });
      return { sc, req, record: escalationRecord(req) };
    }
    const next = (s: GateStore, sc: Scope, id: string) =>
      s.consume(consumeRequest(sc, T0 + 1, { denyAfter: 1, call: { id, fingerprint: "f" } }));

    it("never written: the call keeps the DENY for every repeat, and its use is given back once", async (t) => {
      const s = await store();
      if (!s.abandonEscalation) return t.skip();
      const other = await peer(s);
      const { sc, req, record } = await escalatedCall(s);
      const deny = unrecorded(record, T0 + 1);
      expect(await s.abandonEscalation(record, deny)).toBe(true);
      const repeat = await other.consume({ ...req, decisionId: "another", escalationId: "another" });
      expect(repeat.repeat).toMatchObject({ outcome: "escalate", settled: deny, mismatch: false });
      expect(
        await other.claimCall({ scope: sc, key: req.call!.key, fingerprint: "f", now: T0 + 2, runTtlMs: 1000 }),
      ).toBe("not_allowed");
      expect(await other.getEscalation(record.escalationId)).toBeUndefined();
      // The use came back: one more call fits under deny_after 1, and a second abandon gives back nothing.
      expect(await next(other, sc, "c2")).toMatchObject({ outcome: "allow", used: 0 });
      expect(await other.abandonEscalation!(record, unrecorded(record, T0 + 3))).toBe(false);
      expect(await next(s, sc, "c3")).toMatchObject({ outcome: "deny_after", used: 1 });
      expect((await s.consume(req)).repeat?.settled).toEqual(deny);
    });

    it("never written, without a call id: its use is given back", async (t) => {
      const s = await store();
      if (!s.abandonEscalation) return t.skip();
      const sc = freshScope("deploy");
      const req = consumeRequest(sc, T0, { escalate: true, denyAfter: 1 });
      expect(await s.consume(req)).toMatchObject({ outcome: "escalate", used: 0 });
      const record = escalationRecord(req);
      expect(await s.abandonEscalation(record, unrecorded(record, T0 + 1))).toBe(true);
      expect(await s.getEscalation(record.escalationId)).toBeUndefined();
      const again = () => s.consume(consumeRequest(sc, T0 + 2, { escalate: true, denyAfter: 1 }));
      expect(await again()).toMatchObject({ outcome: "escalate", used: 0 });
      expect(await again()).toMatchObject({ outcome: "deny_after", used: 1 });
    });

    it.for([true, false])(
      "a second abandon (with a call id: %s) changes nothing: the use is given back once",
      async (withCall, t) => {
        const s = await store();
        if (!s.abandonEscalation) return t.skip();
        const other = await peer(s);
        const sc = freshScope("deploy");
        const o = (id: string) => ({ denyAfter: 2, ...(withCall ? { call: { id, fingerprint: "f" } } : {}) });
        expect(await s.consume(consumeRequest(sc, T0, o("c1")))).toMatchObject({ outcome: "allow", used: 0 });
        const req = consumeRequest(sc, T0 + 1, { ...o("c2"), escalate: true });
        expect(await s.consume(req)).toMatchObject({ outcome: "escalate", used: 1 });
        const record = escalationRecord(req);
        const deny = unrecorded(record, T0 + 2);
        expect(await s.abandonEscalation(record, deny)).toBe(true);
        // The same script again (a client re-sending it after a reconnect), from another process too.
        expect(await s.abandonEscalation(record, deny)).toBe(false);
        expect(await other.abandonEscalation!(record, unrecorded(record, T0 + 3))).toBe(false);
        expect(await s.consume(consumeRequest(sc, T0 + 4, o("c3")))).toMatchObject({ outcome: "allow", used: 1 });
        expect(await s.consume(consumeRequest(sc, T0 + 5, o("c4")))).toMatchObject({ outcome: "deny_after", used: 2 });
        if (withCall) expect((await other.consume(req)).repeat?.settled).toEqual(deny);
      },
    );

    it.for([true, false])(
      "an escalation write that lands after the abandon (with a call id: %s) is refused: nothing to approve, no second give-back",
      async (withCall, t) => {
        const s = await store();
        if (!s.abandonEscalation) return t.skip();
        const other = await peer(s);
        const sc = freshScope("deploy");
        const req = consumeRequest(sc, T0, {
          escalate: true,
          denyAfter: 1,
          ...(withCall ? { call: { id: "c", fingerprint: "f" } } : {}),
        });
        expect(await s.consume(req)).toMatchObject({ outcome: "escalate", used: 0 });
        const record = escalationRecord(req);
        const deny = unrecorded(record, T0 + 1);
        expect(await s.abandonEscalation(record, deny)).toBe(true);
        await expect(Promise.resolve().then(() => other.createEscalation(record, 3_600_000))).rejects.toSatisfy(
          (e: unknown) => EscalationError.isInstance(e) && e.code === "AGENTGATE_ESCALATION_SETTLED",
        );
        expect(await other.getEscalation(record.escalationId)).toBeUndefined();
        expect(await s.listEscalations(T0 + 2, { scope: { policy: sc.policy, agentId: sc.agentId } })).toEqual([]);
        expect((await s.settleEscalation(record.escalationId, settledDecision(record, false, T0 + 2), true)).ok).toBe(
          false,
        );
        if (withCall) expect((await s.consume(req)).repeat?.settled).toEqual(deny);
        // deny_after 1 and one use given back, once: exactly one more call fits.
        const next = (now: number) => s.consume(consumeRequest(sc, now, { denyAfter: 1 }));
        expect(await next(T0 + 3)).toMatchObject({ outcome: "allow", used: 0 });
        expect(await next(T0 + 4)).toMatchObject({ outcome: "deny_after", used: 1 });
      },
    );

    it("written after all: it is settled as the DENY; an escalation someone already settled is left alone", async (t) => {
      const s = await store();
      if (!s.abandonEscalation) return t.skip();
      const other = await peer(s);
      const { sc, req, record } = await escalatedCall(s);
      await s.createEscalation(record, 3_600_000);
      const deny = unrecorded(record, T0 + 1);
      expect(await other.abandonEscalation!(record, deny)).toBe(true);
      expect(await s.getEscalation(record.escalationId)).toMatchObject({ status: "denied", settled: deny });
      // The same write again (a client re-sending it) never reopens it.
      await expect(Promise.resolve().then(() => other.createEscalation(record, 3_600_000))).rejects.toSatisfy(
        EscalationError.isInstance,
      );
      expect(await s.getEscalation(record.escalationId)).toMatchObject({ status: "denied", settled: deny });
      expect((await s.consume(req)).repeat?.settled).toEqual(deny);
      const mine = await s.listEscalations(T0 + 2, { scope: { policy: sc.policy, agentId: sc.agentId } });
      expect(mine).toEqual([]);
      expect(await s.settleEscalation(record.escalationId, settledDecision(record, true, T0 + 2), false)).toMatchObject(
        {
          ok: false,
          reason: "settled",
        },
      );
      expect(await next(s, sc, "c2")).toMatchObject({ outcome: "allow", used: 0 });

      const approved = await escalatedCall(s);
      await s.createEscalation(approved.record, 3_600_000);
      const yes = settledDecision(approved.record, true, T0 + 1);
      expect((await s.settleEscalation(approved.record.escalationId, yes, false)).ok).toBe(true);
      expect(await other.abandonEscalation!(approved.record, unrecorded(approved.record, T0 + 2))).toBe(false);
      expect(await s.getEscalation(approved.record.escalationId)).toMatchObject({ status: "approved", settled: yes });
      expect((await s.consume(approved.req)).repeat?.settled).toEqual(yes);
    });

    it.for([false, true])(
      "through GateKeepers: a failed escalation write (landed: %s) is a DENY store_unavailable in every process",
      async (landed, t) => {
        const s = await store();
        if (!s.abandonEscalation) return t.skip();
        const identity = await AgentIdentity.create("conformance-bot");
        const policy = new PermissionPolicy({
          name: `conformance-${globalThis.crypto.randomUUID()}`,
          rules: [{ action: "tool_use", allowed: true, requireApproval: true, denyAfter: 1 }],
        });
        const raiser = new GateKeeper({ identity, policy, store: failingFirstWrite(s, landed) });
        const other = new GateKeeper({ identity, policy, store: await peer(s), approvalHandler: () => true });
        const call = { toolName: "deploy", input: { env: "prod" }, callId: "unrecorded" };
        const first = await raiser.checkToolCall(call);
        expect(first).toMatchObject({ type: "deny", code: "store_unavailable", callId: "unrecorded" });
        for (const g of [raiser, other]) expect(await g.checkToolCall({ ...call, execute: true })).toEqual(first);
        expect([...raiser.decisions, ...other.decisions]).toEqual([first]);
        expect(await other.pendingEscalations()).toEqual([]);
        // The reserved use was given back: the next call escalates (and is approved inline) rather than deny_after.
        expect(await other.checkToolCall({ ...call, callId: "next" })).toMatchObject({ type: "allow" });
      },
    );

    it.for([false, true])(
      "a store without abandonEscalation (landed: %s): a failed write is still a DENY for every repeat, never an ESCALATE",
      async (landed, t) => {
        const s = withoutAbandon(await store());
        const identity = await AgentIdentity.create("conformance-bot");
        const policy = new PermissionPolicy({
          name: `conformance-${globalThis.crypto.randomUUID()}`,
          rules: [{ action: "tool_use", allowed: true, requireApproval: true, denyAfter: 1 }],
        });
        const now = Date.now();
        const raiser = new GateKeeper({ identity, policy, store: failingFirstWrite(s, landed), clock: () => now });
        // Past any store's write window: the repeat reads once.
        const later = () => now + 600_000;
        const repeatGate = new GateKeeper({ identity, policy, store: withoutAbandon(await peer(s)), clock: later });
        const call = { toolName: "deploy", input: { env: "prod" }, callId: "unrecorded" };
        const first = await raiser.checkToolCall(call);
        expect(first).toMatchObject({ type: "deny", code: "store_unavailable", callId: "unrecorded" });
        const repeat = await repeatGate.checkToolCall({ ...call, execute: true });
        // Landed: settled as the gate's DENY; never written: nobody can answer it.
        if (landed) expect(repeat).toEqual(first);
        else expect(repeat).toMatchObject({ type: "deny", code: "approval_error", callId: "unrecorded" });
        expect(await repeatGate.pendingEscalations()).toEqual([]);
        // Landed, the settle gave the use back; never written, it stays counted (more uses, never fewer).
        const next = await repeatGate.checkToolCall({ ...call, callId: "next" });
        expect(next).toMatchObject(landed ? { type: "escalate" } : { type: "deny", code: "deny_after" });
      },
    );
  });
}
