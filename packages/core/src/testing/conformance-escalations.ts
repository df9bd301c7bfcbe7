import { describe, expect, it } from "vitest";
import { EscalationError } from "../errors/index.js";
import { GateKeeper } from "../gate/gate-keeper.js";
import type { EscalationRecord, GateStore } from "../gate/store.js";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import type { ActionRule } from "../policy/rule.js";
import { CONCURRENCY, T0, type ConformanceContext } from "./conformance-context.js";
import {
  consumeRequest,
  escalationRecord,
  freshScope,
  settledDecision,
  WINDOW_MS,
  type RequestOptions,
} from "./fixtures.js";

/** Escalations in the store, and the whole contract through real `GateKeeper`s sharing it. */
export function escalationCases({ store, peer, consume }: ConformanceContext): void {
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
      if (won.ok)
        expect(won.record).toMatchObject({ status: "denied", settled: decision, escalationId: record.escalationId });
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
          Promise.resolve().then(() =>
            handles[i % handles.length]!.settleEscalation(
              record.escalationId,
              settledDecision(record, i % 2 === 0, T0 + i),
              true,
            ),
          ),
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
        const req = consumeRequest(sc, T0, {
          escalate: true,
          ...(callId ? { call: { id: callId, fingerprint: "f" } } : {}),
        });
        await s.consume(req);
        const record = escalationRecord(req, ttlMs);
        if (req.call) record.callKey = req.call.key;
        await s.createEscalation(record, ttlMs);
        return record;
      };
      // Two share an expiry: the escalation id breaks the tie.
      const mine = [
        await raise(a, 5_000),
        await raise(a, 2_000, "the-call"),
        await raise(a, 9_000),
        await raise(a, 5_000),
        await raise(a, 7_000),
      ];
      const theirs = await raise(b, 1_000);
      const order = mine
        .slice()
        .sort((x, y) => x.expiresAt - y.expiresAt || (x.escalationId < y.escalationId ? -1 : 1))
        .map((r) => r.escalationId);
      const scope = { policy: a.policy, agentId: a.agentId };
      const ids = (rs: EscalationRecord[]) =>
        rs.filter((r) => r.decision.agentId === a.agentId).map((r) => r.escalationId);
      const all = ids(await other.listEscalations(T0 + 1, { scope }));
      expect(new Set(all)).toEqual(new Set(order));
      // Pages of two, each resuming after the last one seen.
      const paged: string[] = [];
      let after: EscalationRecord | undefined;
      for (let i = 0; i < 5; i++) {
        const page = (await other.listEscalations(T0 + 1, { scope, limit: 2, ...(after ? { after } : {}) })).filter(
          (r) => r.decision.agentId === a.agentId,
        );
        if (page.length === 0) break;
        expect(page.length).toBeLessThanOrEqual(2);
        paged.push(...page.map((r) => r.escalationId));
        after = page.at(-1);
      }
      expect(paged).toEqual(order);
      const byCall = ids(await other.listEscalations(T0 + 1, { scope, callKey: mine[1]!.callKey! }));
      expect(byCall).toEqual([mine[1]!.escalationId]);
      expect(
        (await other.listEscalations(T0 + 1, { scope: { policy: b.policy, agentId: b.agentId } })).map(
          (r) => r.escalationId,
        ),
      ).toContain(theirs.escalationId);
      await s.settleEscalation(mine[0]!.escalationId, settledDecision(mine[0]!, true, T0 + 2), false);
      expect(ids(await other.listEscalations(T0 + 3, { scope }))).not.toContain(mine[0]!.escalationId);
      // Expired ones (the 2 s one) leave the listing.
      expect(new Set(ids(await s.listEscalations(T0 + 2_000, { scope })))).toEqual(
        new Set([mine[2], mine[3], mine[4]].map((r) => r!.escalationId)),
      );
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
      const { gate, other } = await gates([
        { action: "tool_use", allowed: true, escalateTargets: ["deploy"], denyAfter: 5 },
      ]);
      const call = { toolName: "deploy", input: { env: "prod" }, callId: "call-1" };
      const raised = await gate.checkToolCall(call);
      expect(raised).toMatchObject({ type: "escalate", callId: "call-1" });
      const listed = await other.pendingEscalations();
      expect(listed).toContainEqual(
        expect.objectContaining({ escalationId: raised.escalationId, callId: "call-1", args: { env: "prod" } }),
      );
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
      expect(await gate.checkToolCall({ ...call, input: { env: "staging" } })).toMatchObject({
        type: "deny",
        code: "call_mismatch",
      });
    });

    it("an approved call runs once across gates; a replay in another worker is refused", async () => {
      const { gate, other } = await gates([{ action: "tool_use", allowed: true, requireApproval: true }]);
      const call = { toolName: "deploy", input: { env: "prod" }, callId: "run-once" };
      const raised = await gate.checkToolCall(call);
      await other.resolveEscalation(raised.escalationId!, { approved: true, approvedBy: "alice" });
      expect((await gate.checkToolCall({ ...call, execute: true })).type).toBe("allow");
      expect(await other.checkToolCall({ ...call, execute: true })).toMatchObject({
        type: "deny",
        code: "call_replayed",
      });
    });

    it("exactly one of several concurrent resolveEscalation calls wins", async () => {
      const { gate, other } = await gates([{ action: "shell", allowed: true, requireApproval: true }]);
      const raised = await gate.check("shell", { target: "ls", callId: "c" });
      const attempts = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? gate : other).resolveEscalation(raised.escalationId!, {
            approved: i % 3 === 0,
            approvedBy: `human-${i}`,
          }),
        ),
      );
      const won = attempts.filter((a) => a.status === "fulfilled");
      expect(won).toHaveLength(1);
      for (const a of attempts) {
        if (a.status === "rejected") expect(EscalationError.isInstance(a.reason)).toBe(true);
      }
      expect(await gate.check("shell", { target: "ls", callId: "c" })).toEqual(
        (won[0] as PromiseFulfilledResult<unknown>).value,
      );
    });

    it("a denied escalation gives its use back; an approved one keeps it", async () => {
      const { gate, other } = await gates([
        { action: "file_write", allowed: true, requireApproval: true, denyAfter: 1 },
      ]);
      const first = await gate.check("file_write", "/tmp/a");
      expect(first.type).toBe("escalate");
      expect(await other.check("file_write", "/tmp/b")).toMatchObject({ type: "deny", code: "deny_after" });
      expect(await other.resolveEscalation(first.escalationId!, { approved: false, reason: "no" })).toMatchObject({
        type: "deny",
        code: "approval_denied",
      });
      const second = await gate.check("file_write", "/tmp/c");
      expect(second.type).toBe("escalate");
      expect((await gate.resolveEscalation(second.escalationId!, true)).type).toBe("allow");
      expect(await other.check("file_write", "/tmp/d")).toMatchObject({ type: "deny", code: "deny_after" });
    });

    it("an escalation past approvalTtlMs is no longer listed, and a late approval is a DENY", async () => {
      const { gate, other, advance } = await gates([{ action: "network", allowed: true, requireApproval: true }], {
        approvalTtlMs: 1_000,
      });
      const raised = await gate.check("network", { target: "https://example.com/", callId: "n1" });
      expect((await other.pendingEscalations()).map((r) => r.escalationId)).toContain(raised.escalationId);
      advance(1_001);
      expect((await other.pendingEscalations()).map((r) => r.escalationId)).not.toContain(raised.escalationId);
      const late = await other.resolveEscalation(raised.escalationId!, { approved: true, approvedBy: "bob" });
      expect(late).toMatchObject({ type: "deny", code: "approval_expired" });
    });

    it("an inline-approved call checked to run at once through two gates runs once; both answers are audited", async () => {
      const identity = await AgentIdentity.create("conformance-bot");
      const policy = new PermissionPolicy({
        name: `conformance-${globalThis.crypto.randomUUID()}`,
        rules: [{ action: "tool_use", allowed: true, requireApproval: true }],
      });
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
      const policy = new PermissionPolicy({
        name: `conformance-${globalThis.crypto.randomUUID()}`,
        rules: [{ action: "data_access", allowed: true, requireApproval: true, denyAfter: 1 }],
      });
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

    it("pendingEscalations shows one agent's own escalations, finds one call's, and pages", async () => {
      const { gate, other } = await gates([{ action: "shell", allowed: true, requireApproval: true }]);
      const stranger = new GateKeeper({
        identity: await AgentIdentity.create("other-bot"),
        policy: gate.policy,
        store: gate.store,
      });
      const theirs = await stranger.check("shell", { target: "ls", callId: "s1" });
      const raised = [];
      for (let i = 0; i < 5; i++) raised.push(await gate.check("shell", { target: `t${i}`, callId: `c${i}` }));
      const ids = raised.map((d) => d.escalationId);
      const listed = (await other.pendingEscalations()).map((r) => r.escalationId);
      expect(new Set(listed)).toEqual(new Set(ids));
      expect(listed).not.toContain(theirs.escalationId);
      expect((await other.pendingEscalations({ callId: "c3" })).map((r) => r.escalationId)).toEqual([
        raised[3]!.escalationId,
      ]);
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
  });
}
