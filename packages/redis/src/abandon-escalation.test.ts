import { createHash } from "node:crypto";
import { connect, createServer, type Server, type Socket } from "node:net";
import { AgentIdentity, EscalationError, GateKeeper, PermissionPolicy } from "@agentgate/core";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisStore } from "./index.js";
import { KeySpace } from "./keys.js";
import { ABANDON_LUA, CREATE_LUA } from "./scripts.js";
import { deleteKeys } from "./test-utils/keys.js";
import { redisUrl, testPrefix } from "./test-utils/redis-env.js";

const identity = await AgentIdentity.create("abandon-bot");

/**
 * A TCP proxy to Redis that loses the reply to the first command containing `marker` and then drops
 * that connection: the command ran, its client never heard, and ioredis sends it again after it
 * reconnects (`autoResendUnfulfilledCommands`). Counts the commands it forwarded that contain `marker`.
 * With `lateMs`, nothing is lost: from that command on, the connection's replies arrive `lateMs` late.
 */
async function replyLosingProxy(target: URL, marker: (sent: string) => boolean, lateMs?: number) {
  const state = { sent: 0, lost: false };
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    let swallow = false;
    client.on("data", (d) => {
      const text = d.toString("latin1");
      if (marker(text)) {
        state.sent++;
        if (!state.lost) {
          state.lost = swallow = true;
          if (lateMs === undefined) setTimeout(() => client.destroy(), 50);
        }
      }
      upstream.write(d);
    });
    upstream.on("data", (d) => {
      if (!swallow) client.write(d);
      else if (lateMs !== undefined) setTimeout(() => client.writable && client.write(d), lateMs);
    });
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      a.on("close", () => b.destroy());
      a.on("error", () => b.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    state,
    port: (server.address() as { port: number }).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// Real Redis errors, not a stub: a key of the wrong type makes a script fail with WRONGTYPE.
describe.skipIf(redisUrl === null)("an escalation Redis could not record (abandonEscalation)", () => {
  const prefix = testPrefix("abandon");
  const keys = new KeySpace(prefix);
  let admin: Redis;
  const clients: Redis[] = [];
  beforeAll(() => {
    admin = new Redis(redisUrl!);
  });
  afterAll(async () => {
    await deleteKeys(admin, prefix);
    await admin.quit();
    for (const c of clients) await c.quit();
  });

  /** Two gates on two connections, as two processes; the policy escalates and allows one use. */
  function gates() {
    const policy = new PermissionPolicy({
      name: `p-${globalThis.crypto.randomUUID()}`,
      rules: [{ action: "tool_use", allowed: true, requireApproval: true, denyAfter: 1 }],
    });
    const [a, b] = [new Redis(redisUrl!), new Redis(redisUrl!)];
    clients.push(a, b);
    return {
      raiser: new GateKeeper({ identity, policy, store: new RedisStore({ client: a, prefix }) }),
      other: new GateKeeper({ identity, policy, store: new RedisStore({ client: b, prefix }) }),
      index: keys.agentPending({ policy: policy.name, agentId: identity.id }),
    };
  }

  it("the record's script fails: the call ends as DENY store_unavailable in every process, its use given back", async () => {
    const { raiser, other, index } = gates();
    await admin.set(index, "not a sorted set");
    const call = { toolName: "deploy", input: { env: "prod" }, callId: "c1" };
    const first = await raiser.checkToolCall(call);
    expect(first).toMatchObject({ type: "deny", code: "store_unavailable", callId: "c1" });
    expect(first.reason).toMatch(/cannot record the escalation.*WRONGTYPE/);
    for (const g of [raiser, other]) expect(await g.checkToolCall({ ...call, execute: true })).toEqual(first);
    expect(other.decisions).toEqual([]);
    await admin.del(index);
    // deny_after 1: the failed escalation's use came back, so the next call escalates.
    expect(await other.checkToolCall({ ...call, callId: "c2" })).toMatchObject({ type: "escalate" });
    expect(await other.checkToolCall({ ...call, callId: "c3" })).toMatchObject({ code: "deny_after" });
  });

  it("the record is written but not indexed: it is settled as the DENY, off the agent's pending list", async () => {
    const { raiser, other } = gates();
    await admin.set(keys.pending(), "not a sorted set");
    try {
      const call = { toolName: "deploy", input: { env: "prod" }, callId: "c1" };
      const first = await raiser.checkToolCall(call);
      expect(first).toMatchObject({ type: "deny", code: "store_unavailable" });
      expect(await other.pendingEscalations()).toEqual([]);
      expect(await other.checkToolCall(call)).toEqual(first);
      const [id] = await admin.keys(`${keys.recordPrefix({ policy: raiser.policy.name, agentId: identity.id })}*`);
      const escalationId = decodeURIComponent(id!.slice(id!.lastIndexOf(":") + 1));
      await expect(other.resolveEscalation(escalationId, { approved: true, approvedBy: "ops" })).rejects.toSatisfy(
        (e: unknown) => EscalationError.isInstance(e) && e.code === "AGENTGATE_ESCALATION_SETTLED",
      );
    } finally {
      await admin.del(keys.pending());
    }
  });

  it("the abandon script run twice (a reply lost, ioredis re-sends it after reconnecting) gives the use back once", async () => {
    const sha = createHash("sha1").update(ABANDON_LUA).digest("hex");
    await admin.script("LOAD", ABANDON_LUA); // else the first EVALSHA's NOSCRIPT would be the lost reply
    // EVAL carries the script, EVALSHA its digest: either is this script.
    const proxy = await replyLosingProxy(
      new URL(redisUrl!),
      (sent) => sent.includes(sha) || sent.includes(ABANDON_LUA),
    );
    const client = new Redis(proxy.port, "127.0.0.1", { retryStrategy: () => 20 });
    clients.push(client);
    try {
      const policy = new PermissionPolicy({
        name: `p-${globalThis.crypto.randomUUID()}`,
        rules: [{ action: "tool_use", allowed: true, requireApproval: true, denyAfter: 2 }],
      });
      const gate = new GateKeeper({
        identity,
        policy,
        store: new RedisStore({ client, prefix, commandTimeoutMs: 300 }),
      });
      const index = keys.agentPending({ policy: policy.name, agentId: identity.id });
      // No call id: nothing but the escalation's own key can tell a second run it already gave the use back.
      expect(await gate.checkToolCall({ toolName: "deploy", input: {} })).toMatchObject({ type: "escalate" });
      await admin.set(index, "not a sorted set");
      const failed = await gate.checkToolCall({ toolName: "deploy", input: { n: 2 } });
      expect(failed).toMatchObject({ type: "deny", code: "store_unavailable" });
      await admin.del(index);
      for (let i = 0; i < 200 && proxy.state.sent < 2; i++) await new Promise((r) => setTimeout(r, 25));
      expect(proxy.state).toEqual({ sent: 2, lost: true });
      await client.ping(); // answered after the re-sent script on the same connection
      // deny_after 2: one use is pending, the failed one came back once, so exactly one more fits.
      const usedKey = keys.used({ policy: policy.name, agentId: identity.id, action: "tool_use" });
      expect(await admin.get(usedKey)).toBe("1");
      const again = () => gate.checkToolCall({ toolName: "deploy", input: { n: 3 } });
      expect(await again()).toMatchObject({ type: "escalate" });
      expect(await again()).toMatchObject({ type: "deny", code: "deny_after" });
    } finally {
      await proxy.close();
    }
  });

  it("the escalation write window follows commandTimeoutMs (five bounded commands and a second)", () => {
    const client = new Redis(redisUrl!, { lazyConnect: true });
    try {
      expect(new RedisStore({ client, prefix }).escalationWriteWindowMs).toBe(6_000);
      expect(new RedisStore({ client, prefix, commandTimeoutMs: 300 }).escalationWriteWindowMs).toBe(2_500);
    } finally {
      client.disconnect();
    }
  });

  it("the escalation write sent again after it landed changes nothing (not refused by maxPendingEscalations)", async () => {
    const client = new Redis(redisUrl!);
    clients.push(client);
    const store = new RedisStore({ client, prefix, maxPendingEscalations: 1 });
    const policy = new PermissionPolicy({
      name: `p-${globalThis.crypto.randomUUID()}`,
      rules: [{ action: "tool_use", allowed: true, requireApproval: true, denyAfter: 2 }],
    });
    const gate = new GateKeeper({ identity, policy, store });
    const call = { toolName: "deploy", input: {}, callId: "resent" };
    const raised = await gate.checkToolCall(call);
    expect(raised.type).toBe("escalate");
    const record = (await store.getEscalation(raised.escalationId!))!;
    await store.createEscalation(record, 3_600_000);
    const usedKey = keys.used({ policy: policy.name, agentId: identity.id, action: "tool_use" });
    expect(await admin.get(usedKey)).toBe("1");
    expect(await gate.checkToolCall(call)).toEqual(raised);
    expect((await gate.pendingEscalations()).map((r) => r.escalationId)).toEqual([raised.escalationId]);
  });
  /** A gate whose store reaches Redis through `proxy`, at maxPendingEscalations 1 and deny_after 2. */
  function cappedGate(port: number, commandTimeoutMs: number) {
    const client = new Redis(port, "127.0.0.1", { retryStrategy: () => 20 });
    clients.push(client);
    const policy = new PermissionPolicy({
      name: `p-${globalThis.crypto.randomUUID()}`,
      rules: [{ action: "tool_use", allowed: true, requireApproval: true, denyAfter: 2 }],
    });
    const store = new RedisStore({ client, prefix, commandTimeoutMs, maxPendingEscalations: 1 });
    const usedKey = keys.used({ policy: policy.name, agentId: identity.id, action: "tool_use" });
    return { gate: new GateKeeper({ identity, policy, store }), used: () => admin.get(usedKey) };
  }
  const createSha = createHash("sha1").update(CREATE_LUA).digest("hex");
  const isCreate = (sent: string) => sent.includes(createSha) || sent.includes(CREATE_LUA);

  it.each([
    ["with a call id", "b"],
    ["without one", undefined],
  ])(
    "an escalation refused at maxPendingEscalations whose refusal is sent again (a reply lost) gives the use back once (%s)",
    async (_label, callId) => {
      await admin.script("LOAD", CREATE_LUA);
      let armed = false;
      const proxy = await replyLosingProxy(new URL(redisUrl!), (sent) => armed && isCreate(sent));
      try {
        const { gate, used } = cappedGate(proxy.port, 1_000);
        expect(await gate.checkToolCall({ toolName: "deploy", input: { n: 1 } })).toMatchObject({ type: "escalate" });
        armed = true;
        const refused = await gate.checkToolCall({ toolName: "deploy", input: { n: 2 }, callId });
        expect(refused).toMatchObject({ type: "deny", code: "escalation_limit" });
        expect(proxy.state).toEqual({ sent: 2, lost: true });
        expect(await used()).toBe("1"); // the pending one's: the refused one's given back once
      } finally {
        await proxy.close();
      }
    },
  );

  it("an escalation refused at maxPendingEscalations whose refusal arrives after the timeout gives the use back once", async () => {
    await admin.script("LOAD", CREATE_LUA);
    let armed = false;
    const proxy = await replyLosingProxy(new URL(redisUrl!), (sent) => armed && isCreate(sent), 600);
    try {
      const { gate, used } = cappedGate(proxy.port, 300);
      expect(await gate.checkToolCall({ toolName: "deploy", input: { n: 1 } })).toMatchObject({ type: "escalate" });
      armed = true;
      // The gate hears a timeout, not the refusal, and abandons the escalation: nothing left to give back.
      const late = await gate.checkToolCall({ toolName: "deploy", input: { n: 2 } });
      expect(late).toMatchObject({ type: "deny", code: "store_unavailable" });
      await new Promise((r) => setTimeout(r, 1_500)); // the late replies, and the abandon, have run
      expect(await used()).toBe("1");
    } finally {
      await proxy.close();
    }
  });
});
