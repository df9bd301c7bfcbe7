import { describe, expect, it } from "vitest";
import { EscalationError } from "../errors/escalation-error.js";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import type { ActionRule } from "../policy/rule.js";
import type { ApprovalHandler, ApprovalRequest } from "./approval.js";
import { ESCALATION_WRITE_WINDOW_MS } from "./escalations-unrecorded.js";
import { GateKeeper } from "./gate-keeper.js";
import { MemoryStore } from "./memory-store.js";
import type { EscalationRecord } from "./store.js";

const identity = await AgentIdentity.create("unrecorded-bot");
const approve: ActionRule = { action: "tool_use", allowed: true, requireApproval: true };

function gateOn(
  store: MemoryStore,
  o: { rules?: ActionRule[]; handler?: ApprovalHandler; clock?: () => number } = {},
): GateKeeper {
  return new GateKeeper({
    identity,
    policy: new PermissionPolicy({ name: "unrecorded", rules: o.rules ?? [approve] }),
    store,
    ...(o.handler ? { approvalHandler: o.handler } : {}),
    ...(o.clock ? { clock: o.clock } : {}),
  });
}

/** The store's next escalation write fails; `landed`: it is written first (a reply lost on the way back). */
function failNextWrite(store: MemoryStore, landed = false): EscalationRecord[] {
  const create = store.createEscalation.bind(store);
  const failed: EscalationRecord[] = [];
  store.createEscalation = (record) => {
    if (failed.length > 0) return create(record);
    failed.push(record);
    if (landed) create(record);
    throw new Error("disk full");
  };
  return failed;
}

/** Counts the store's escalation reads. */
function countReads(store: MemoryStore): { n: number } {
  const get = store.getEscalation.bind(store);
  const reads = { n: 0 };
  store.getEscalation = (id) => {
    reads.n++;
    return get(id);
  };
  return reads;
}

const handlers = [
  ["without an approval handler", false],
  ["with an approval handler", true],
] as const;

describe("an escalation the store could not record", () => {
  it.each(handlers)(
    "%s: the call ends as an audited DENY store_unavailable, and every repeat gets that DENY at once",
    async (_, withHandler) => {
      const store = new MemoryStore();
      failNextWrite(store);
      const asked: ApprovalRequest[] = [];
      const handler: ApprovalHandler = (request) => {
        asked.push(request);
        return { approved: true, approvedBy: "ops" };
      };
      const gate = gateOn(store, withHandler ? { handler } : {});
      const call = { toolName: "deploy", input: { to: "prod" }, callId: "w-1" };
      const first = await gate.checkToolCall(call);
      expect(first).toMatchObject({ type: "deny", code: "store_unavailable", callId: "w-1" });
      expect(first.reason).toMatch(/cannot record the escalation.*disk full/);
      const reads = countReads(store);
      const otherProcess = gateOn(store, withHandler ? { handler } : {});
      for (const g of [gate, otherProcess]) {
        expect(await g.checkToolCall(call)).toEqual(first);
        expect(await g.checkToolCall({ ...call, execute: true })).toEqual(first);
      }
      // No escalation was looked for, no human asked; the DENY was audited once.
      expect(reads.n).toBe(0);
      expect(asked).toEqual([]);
      expect(gate.decisions).toEqual([first]);
      expect(await gate.pendingEscalations()).toEqual([]);
    },
  );

  it.each([
    ["with a call id", "c"],
    ["without one", undefined],
  ])("gives its counter use back (%s): the next call is not refused by deny_after", async (_, callId) => {
    const store = new MemoryStore();
    failNextWrite(store);
    const gate = gateOn(store, { rules: [{ ...approve, denyAfter: 1 }] });
    const check = (suffix: string) =>
      gate.checkToolCall({ toolName: "deploy", input: {}, ...(callId ? { callId: callId + suffix } : {}) });
    expect(await check("1")).toMatchObject({ code: "store_unavailable" });
    expect(await check("2")).toMatchObject({ type: "escalate" });
    expect(await check("3")).toMatchObject({ code: "deny_after" });
  });

  it("a write that landed although the store reported a failure: the escalation is settled as that DENY", async () => {
    const store = new MemoryStore();
    const [failed] = [failNextWrite(store, true)];
    const gate = gateOn(store);
    const call = { toolName: "deploy", input: { to: "prod" }, callId: "landed-1" };
    const first = await gate.checkToolCall(call);
    expect(first).toMatchObject({ type: "deny", code: "store_unavailable" });
    const id = failed[0]!.escalationId;
    expect(store.getEscalation(id)).toMatchObject({ status: "denied", settled: first });
    expect(await gate.pendingEscalations()).toEqual([]);
    expect(await gate.checkToolCall(call)).toEqual(first);
    // Nobody can approve it afterwards.
    await expect(gate.resolveEscalation(id, { approved: true, approvedBy: "ops" })).rejects.toSatisfy(
      (e: unknown) => EscalationError.isInstance(e) && e.code === "AGENTGATE_ESCALATION_SETTLED",
    );
    expect(gate.decisions.map((d) => d.code)).toEqual(["store_unavailable", "approval_superseded"]);
  });
});

describe("a repeat of an escalated call whose escalation the store does not have (one rule, ESCALATION_WRITE_WINDOW_MS)", () => {
  /** Raises call `gone-1`, then evicts its escalation (a store that keeps one): it is gone, not failed. */
  async function evicted(clock: () => number, options: { escalationWriteWindowMs?: number } = {}) {
    const store = new MemoryStore({ maxEscalations: 1, ...options });
    const raiser = gateOn(store, { clock });
    const call = { toolName: "deploy", input: { to: "prod" }, callId: "gone-1" };
    const raised = await raiser.checkToolCall(call);
    expect(raised.type).toBe("escalate");
    await raiser.checkToolCall({ ...call, callId: "gone-2" });
    expect(store.getEscalation(raised.escalationId!)).toBeUndefined();
    return { store, call, raised };
  }

  it.each(handlers)(
    "%s: raised longer ago than the window, one read and a DENY approval_error",
    async (_, withHandler) => {
      let now = Date.now();
      const { store, call } = await evicted(() => now);
      now += ESCALATION_WRITE_WINDOW_MS + 1;
      const asked: unknown[] = [];
      const gate = gateOn(store, { clock: () => now, ...(withHandler ? { handler: (r) => asked.push(r) > 0 } : {}) });
      const reads = countReads(store);
      const repeat = await gate.checkToolCall({ ...call, execute: true });
      expect(repeat).toMatchObject({ type: "deny", code: "approval_error", callId: "gone-1" });
      expect(repeat.reason).toMatch(/gone \(never stored, or expired\): nobody can answer it/);
      expect(reads.n).toBe(1);
      expect(asked).toEqual([]);
      expect(gate.decisions).toEqual([repeat]);
    },
  );

  it.each(handlers)(
    "%s: raised just now, it is looked for again until the window ends, then a DENY",
    async (_, withHandler) => {
      const now = Date.now();
      const { store, call } = await evicted(() => now); // a frozen clock: the whole window is waited, once
      const gate = gateOn(store, { clock: () => now, ...(withHandler ? { handler: () => true } : {}) });
      const reads = countReads(store);
      expect(await gate.checkToolCall(call)).toMatchObject({ type: "deny", code: "approval_error" });
      // 10, 20, 40 ... ms apart, then 500 ms: a handful of reads, not one per millisecond.
      expect(reads.n).toBeGreaterThan(3);
      expect(reads.n).toBeLessThan(20);
    },
  );

  it.each(handlers)(
    "%s: a slow writer in another process: the repeat finds the escalation once written",
    async (_, withHandler) => {
      const store = new MemoryStore({ escalationWriteWindowMs: ESCALATION_WRITE_WINDOW_MS });
      const create = store.createEscalation.bind(store);
      let release!: () => void;
      const written = new Promise<void>((resolve) => (release = resolve));
      store.createEscalation = async (...args) => {
        await written;
        return create(...args);
      };
      const handler = withHandler ? { handler: () => ({ approved: true, approvedBy: "ops" }) } : {};
      const a = gateOn(store, handler);
      const b = gateOn(store, handler);
      const call = { toolName: "deploy", input: { to: "prod" }, callId: "slow-1" };
      const first = a.checkToolCall(call);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const repeat = b.checkToolCall(call);
      setTimeout(release, 100);
      const [raised, repeated] = await Promise.all([first, repeat]);
      expect(b.decisions.filter((d) => d.type === "deny")).toEqual([]);
      if (withHandler) {
        expect(raised).toMatchObject({ type: "allow", approvedBy: "ops" });
        expect(repeated).toEqual(raised);
        return;
      }
      expect(repeated).toEqual(raised);
      expect(repeated.type).toBe("escalate");
      await a.resolveEscalation(raised.escalationId!, { approved: true, approvedBy: "ops" });
      expect(await b.checkToolCall({ ...call, execute: true })).toMatchObject({ type: "allow", approvedBy: "ops" });
      await expect(a.resolveEscalation(raised.escalationId!, true)).rejects.toSatisfy(EscalationError.isInstance);
    },
  );

  it.each(handlers)(
    "%s: the store says how long it may take to write (escalationWriteWindowMs)",
    async (_, withHandler) => {
      const handler = withHandler ? { handler: () => ({ approved: true, approvedBy: "ops" }) } : {};
      // A window of 0 (a store whose writes land within the check): one read, then the DENY, even on a frozen clock.
      const now = Date.now();
      const { store, call } = await evicted(() => now, { escalationWriteWindowMs: 0 });
      const reads = countReads(store);
      const gate = gateOn(store, { clock: () => now, ...handler });
      expect(await gate.checkToolCall(call)).toMatchObject({ type: "deny", code: "approval_error" });
      expect(reads.n).toBe(1);

      // A longer window than MemoryStore's own 250 ms: a write landing after 500 ms is still found.
      const slow = new MemoryStore({ escalationWriteWindowMs: 1_500 });
      const create = slow.createEscalation.bind(slow);
      slow.createEscalation = async (...args) => {
        await new Promise((resolve) => setTimeout(resolve, 500));
        return create(...args);
      };
      const [a, b] = [gateOn(slow, handler), gateOn(slow, handler)];
      const slowCall = { ...call, callId: "slow-2" };
      const first = a.checkToolCall(slowCall);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const [raised, repeated] = await Promise.all([first, b.checkToolCall(slowCall)]);
      expect(raised.type).toBe(withHandler ? "allow" : "escalate");
      expect(repeated).toEqual(raised);
    },
  );
});
