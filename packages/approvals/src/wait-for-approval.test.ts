import {
  AgentGateError,
  AgentIdentity,
  GateKeeper,
  MemoryStore,
  PermissionPolicy,
  settleStoredEscalation,
} from "@agentgate/core";
import { RedisStore } from "@agentgate/redis";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApprovalTimedOut } from "./approval-timed-out.js";
import { startAgent } from "./test-utils/agent-process.js";
import { redisUrl, startHarness, until, type Harness } from "./test-utils/harness.js";
import { waitForApproval } from "./wait-for-approval.js";

const policy = new PermissionPolicy({
  name: "demo",
  rules: [{ action: "tool_use", allowed: true, escalateTargets: ["*"] }],
});

describe("waitForApproval with a MemoryStore (one process)", () => {
  it("resumes on an in-process settle and times out with a DENY", async () => {
    const store = new MemoryStore();
    const gate = new GateKeeper({
      identity: await AgentIdentity.create("bot"),
      policy,
      store,
      approvalHandler: waitForApproval({ store, timeoutMs: 300 }),
    });
    const pending = gate.checkToolCall({ toolName: "deploy", input: {} });
    const id = await until(async () => store.listEscalations(Date.now())[0]?.escalationId);
    await settleStoredEscalation(store, id, { approved: true, approvedBy: "alice" });
    expect(await pending).toMatchObject({ type: "allow", code: "approved", approvedBy: "alice" });
    const late = await gate.checkToolCall({ toolName: "deploy", input: {} });
    expect(late.type).toBe("deny");
    expect(late.reason).toMatch(/approval timed out/);
    expect(store.listEscalations(Date.now())).toHaveLength(0);
  });

  it("rejects bad options; times out with ApprovalTimedOut; an unknown escalation fails at once", async () => {
    expect(() => waitForApproval({ store: new MemoryStore(), timeoutMs: 0 })).toThrow(TypeError);
    const store = new MemoryStore();
    const gate = new GateKeeper({ identity: await AgentIdentity.create("bot"), policy, store });
    const d = await gate.checkToolCall({ toolName: "deploy", input: {} });
    const [request] = await gate.pendingEscalations();
    expect(request?.escalationId).toBe(d.escalationId);
    const error = await Promise.resolve(waitForApproval({ store, timeoutMs: 50 })(request!)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(ApprovalTimedOut.isInstance(error)).toBe(true);
    expect(AgentGateError.isInstance(error)).toBe(true);
    await expect(
      Promise.resolve(waitForApproval({ store, timeoutMs: 50 })({ ...request!, escalationId: "nope" })),
    ).rejects.toThrow(/gone from the store/);
  });
});

describe.skipIf(redisUrl === null)("waitForApproval across processes (Redis pub/sub)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  const api = (id: string, what: "approve" | "deny", body: unknown = {}) =>
    fetch(`${h.url}/api/escalations/${id}/${what}`, {
      method: "POST",
      headers: { authorization: `Bearer ${h.aliceToken}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const pendingFor = (agentId: string) =>
    until(
      async () => (await h.store.listEscalations(Date.now())).find((r) => r.decision.agentId === agentId)?.escalationId,
      15_000,
      "the escalation",
    );

  it("an agent in another process resumes with ALLOW on approve and DENY on deny; times out with DENY", async () => {
    const agent = await startAgent({ redisUrl: redisUrl!, prefix: h.prefix, timeoutMs: 1500 });
    try {
      agent.call("deploy");
      const id = await pendingFor(agent.agentId);
      const t0 = Date.now();
      expect((await api(id, "approve")).status).toBe(200);
      expect(await agent.next()).toMatchObject({
        type: "allow",
        code: "approved",
        approvedBy: "alice",
        escalationId: id,
      });
      // Woken by pub/sub, not by the 5 s safety re-check.
      expect(Date.now() - t0).toBeLessThan(3000);
      agent.call("deploy");
      const id2 = await pendingFor(agent.agentId);
      expect((await api(id2, "deny", { reason: "freeze" })).status).toBe(200);
      expect(await agent.next()).toMatchObject({
        type: "deny",
        code: "approval_denied",
        reason: "a human denied it (alice): freeze",
      });
      agent.call("deploy");
      const timedOut = await agent.next();
      expect(timedOut.type).toBe("deny");
      expect(timedOut.reason).toMatch(/approval timed out/);
      // The timed-out escalation is settled, so it leaves the inbox.
      expect((await h.store.listEscalations(Date.now())).some((r) => r.decision.agentId === agent.agentId)).toBe(false);
    } finally {
      await agent.stop();
    }
  });

  it("fails (never hangs) when Redis is unreachable: the gate turns that into a DENY", async () => {
    const client = new Redis({
      port: 1,
      host: "127.0.0.1",
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on("error", () => {});
    const store = new RedisStore({ client, commandTimeoutMs: 300 });
    const handler = waitForApproval({ store, timeoutMs: 60_000 });
    const t0 = Date.now();
    await expect(
      Promise.resolve(handler({ escalationId: "x", agent: { id: "a", name: "a" }, action: "tool_use", reason: "r" })),
    ).rejects.toThrow(/Redis/);
    expect(Date.now() - t0).toBeLessThan(5000);
    store.close();
    client.disconnect();
  });

  it("another process's gate.resolveEscalation wakes the waiting agent too", async () => {
    const agent = await startAgent({ redisUrl: redisUrl!, prefix: h.prefix });
    try {
      agent.call("deploy");
      const id = await pendingFor(agent.agentId);
      const other = new GateKeeper({ identity: await AgentIdentity.create("ops-console"), policy, store: h.store });
      await other.resolveEscalation(id, { approved: true, approvedBy: "carol" });
      expect(await agent.next()).toMatchObject({ type: "allow", approvedBy: "carol" });
    } finally {
      await agent.stop();
    }
  });
});
