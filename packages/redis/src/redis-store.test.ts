import {
  AgentIdentity,
  GateKeeper,
  PermissionPolicy,
  StoreUnavailableError,
  makeDecision,
  type ActionRule,
  type ConsumeRequest,
  type EscalationRecord,
} from "@agentgate/core";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisStore } from "./index.js";
import { deleteKeys, keysWithTtl } from "./test-utils/keys.js";
import { redisServerBin, redisUrl, testPrefix } from "./test-utils/redis-env.js";
import { freePort, startRedisServer } from "./test-utils/redis-server.js";

const identity = await AgentIdentity.create("redis-bot");

function gate(store: RedisStore, rules: ActionRule[]) {
  const policy = new PermissionPolicy({ name: `p-${globalThis.crypto.randomUUID()}`, rules });
  return new GateKeeper({ identity, policy, store });
}

function request(o: Partial<ConsumeRequest> = {}): ConsumeRequest {
  const scope = { policy: "unit", agentId: globalThis.crypto.randomUUID(), action: "tool_use" };
  return {
    scope,
    key: `${scope.policy}:${scope.agentId}:${scope.action}`,
    now: Date.now(),
    windowMs: 60_000,
    escalate: false,
    decisionId: globalThis.crypto.randomUUID(),
    escalationId: globalThis.crypto.randomUUID(),
    ...o,
  };
}

describe("RedisStore options", () => {
  const client = new Redis({ lazyConnect: true });
  afterAll(() => client.disconnect());

  it("rejects what it cannot work with", () => {
    expect(() => new RedisStore(undefined as never)).toThrow(TypeError);
    expect(() => new RedisStore({ client: {} as never })).toThrow(/ioredis/);
    expect(() => new RedisStore({ client, prefix: "a{b}:" })).toThrow(/hash tags/);
    expect(() => new RedisStore({ client, commandTimeoutMs: 0 })).toThrow(/commandTimeoutMs/);
    expect(() => new RedisStore({ client, commandTimeoutMs: Number.NaN })).toThrow(/commandTimeoutMs/);
    expect(() => new RedisStore({ client, usageTtlMs: -1 })).toThrow(/usageTtlMs/);
    expect(() => new RedisStore({ client, fallback: "disk" as never })).toThrow(/fallback/);
    expect(new RedisStore({ client }).prefix).toBe("agentgate:");
  });
});

describe("RedisStore without a reachable Redis", () => {
  let port: number;
  let client: Redis;
  beforeAll(async () => {
    port = await freePort(); // nothing listens there
    client = new Redis({ port, host: "127.0.0.1", retryStrategy: () => 50 });
    client.on("error", () => {});
  });
  afterAll(() => client.disconnect());

  it("rejects with StoreUnavailableError instead of queueing, and the gate DENYs", async () => {
    const store = new RedisStore({ client, commandTimeoutMs: 300 });
    const error = await store.consume(request({ maxPerMinute: 5 })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(StoreUnavailableError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/Redis (is not connected|did not answer)/);
    await expect(store.getEscalation("x")).rejects.toSatisfy(StoreUnavailableError.isInstance);
    await expect(store.listEscalations(Date.now())).rejects.toSatisfy(StoreUnavailableError.isInstance);
    const d = await gate(store, [{ action: "llm_call", allowed: true, maxPerMinute: 5 }]).check("llm_call");
    expect(d).toMatchObject({ type: "deny", code: "store_unavailable" });
    expect(d.reason).toMatch(/^state store unavailable, failing closed: Redis/);
    // Nothing was left in ioredis' offline queue to run later.
    expect((client as unknown as { offlineQueue: { length: number } }).offlineQueue.length).toBe(0);
  });

  it("waits at most commandTimeoutMs for a lazy client that cannot connect", async () => {
    const lazy = new Redis({ port, host: "127.0.0.1", lazyConnect: true, retryStrategy: () => 50 });
    lazy.on("error", () => {});
    try {
      const store = new RedisStore({ client: lazy, commandTimeoutMs: 200 });
      await expect(store.consume(request({ denyAfter: 1 }))).rejects.toSatisfy(StoreUnavailableError.isInstance);
    } finally {
      lazy.disconnect();
    }
  });
});

describe.skipIf(redisUrl === null)("RedisStore on Redis", () => {
  const prefix = testPrefix("unit");
  let client: Redis;
  let admin: Redis;
  beforeAll(() => {
    client = new Redis(redisUrl!);
    admin = new Redis(redisUrl!);
  });
  afterAll(async () => {
    await deleteKeys(admin, prefix);
    await Promise.all([client.quit(), admin.quit()]);
  });

  it("connects a lazyConnect client on first use", async () => {
    const lazy = new Redis(redisUrl!, { lazyConnect: true });
    try {
      const store = new RedisStore({ client: lazy, prefix });
      expect((await store.consume(request({ denyAfter: 1 }))).outcome).toBe("allow");
    } finally {
      await lazy.quit();
    }
  });

  it("namespaces every key under the prefix and one hash tag per policy and agent, each with a TTL", async () => {
    const own = testPrefix("layout");
    const store = new RedisStore({ client, prefix: own, usageTtlMs: 3_600_000 });
    const g = gate(store, [
      { action: "llm_call", allowed: true, maxPerMinute: 5, denyAfter: 100 },
      { action: "shell", allowed: true, requireApproval: true, maxPerMinute: 5 },
    ]);
    await g.check("llm_call", { callId: "c1" });
    const esc = await g.check("shell", { target: "ls", callId: "c2" });
    await g.check("shell", { target: "rm", callId: "c3" });
    await g.resolveEscalation(esc.escalationId!, { approved: false });
    const keys = await keysWithTtl(admin, own);
    const tag = `{${encodeURIComponent(g.policy.name)}|${identity.id}}`;
    const call = `${tag}:call:${encodeURIComponent(g.policy.name)}:${identity.id}:call:`;
    const names = [...keys.keys()]
      .map((k) => k.slice(own.length).replace(/:(esc|ptr):[0-9a-f-]{36}$/, ":$1:<id>"))
      .sort();
    expect(names).toEqual(
      [
        `${call}c1`,
        `${call}c2`,
        `${call}c3`,
        `${tag}:esc:<id>`,
        `${tag}:esc:<id>`,
        `${tag}:pending`, // this agent's pending escalations (c3's)
        `${tag}:used:llm_call`, // no used:shell: a rate-only rule keeps just its window
        `${tag}:win:llm_call`,
        `${tag}:win:shell`,
        "{esc}:pending",
        "{esc}:ptr:<id>",
        "{esc}:ptr:<id>",
        "{epoch}", // the store epoch: no TTL, so its absence means the data was lost
      ].sort(),
    );
    expect(keys.get(`${own}{epoch}`)).toBe(-1);
    keys.delete(`${own}{epoch}`);
    for (const [key, ttl] of keys) {
      expect(ttl, key).toBeGreaterThan(0);
      expect(ttl, key).toBeLessThanOrEqual(86_400_000 + 600_000);
    }
    await deleteKeys(admin, own);
  });

  it.skipIf(!redisServerBin)(
    "checks in one round trip: a single EVALSHA, every other command runs inside the script",
    async () => {
      // A server of its own: MONITOR on the shared one, flooded by other test files, can trip ioredis.
      const server = await startRedisServer();
      const client = new Redis(server.url);
      const admin = new Redis(server.url);
      const own = testPrefix("trips");
      const store = new RedisStore({ client, prefix: own });
      const g = gate(store, [{ action: "llm_call", allowed: true, maxPerMinute: 50 }]);
      // Loads the script (EVALSHA, then EVAL on NOSCRIPT at most once): a call id, as below. The
      // client connects meanwhile: its server is checked once, not again after that first "ready".
      expect((await g.check("llm_call", { callId: "warm-up" })).type).toBe("allow");
      const monitor = await admin.monitor();
      const seen: { args: string[]; source: string }[] = [];
      monitor.on("monitor", (_time: string, args: string[], source: string) => {
        if (args.some((a) => a.startsWith(own))) seen.push({ args, source });
      });
      try {
        expect((await g.check("llm_call", { callId: "one" })).type).toBe("allow");
        expect((await g.check("llm_call", { callId: "one" })).type).toBe("allow"); // a repeat: one trip too
        // Wait until the monitor has caught up with both checks.
        const marker = `${own}marker`;
        await client.get(marker);
        for (let i = 0; i < 100 && !seen.some((s) => s.args.includes(marker)); i++)
          await new Promise((r) => setTimeout(r, 10));
        const sent = seen.filter((s) => s.source !== "lua" && !s.args.includes(marker));
        expect(sent.map((s) => s.args[0]!.toLowerCase())).toEqual(["evalsha", "evalsha"]);
        expect(seen.filter((s) => s.source === "lua").length).toBeGreaterThan(0);
      } finally {
        monitor.disconnect();
        client.disconnect();
        admin.disconnect();
        await server.dispose();
      }
    },
  );

  it("keeps the sliding window exact when old entries are pruned lazily", async () => {
    const store = new RedisStore({ client, prefix });
    const scope = { policy: "lazy", agentId: globalThis.crypto.randomUUID(), action: "llm_call" };
    const at = (now: number) => store.consume(request({ scope, now, maxPerMinute: 100 }));
    const t0 = 1_000_000;
    for (let i = 0; i < 90; i++) expect((await at(t0 + i)).outcome).toBe("allow");
    // A minute later those 90 no longer count: 100 more pass, the 101st does not.
    const t1 = t0 + 60_000 + 100;
    const later = [];
    for (let i = 0; i < 101; i++) later.push((await at(t1 + i)).outcome);
    expect(later.filter((o) => o === "allow")).toHaveLength(100);
    expect(later[100]).toBe("rate_limit");
    const last = await at(t1 + 200);
    expect(last).toMatchObject({ outcome: "rate_limit", retryAfterMs: 60_000 - 200 });
    // The set stays bounded: old entries were removed on the way.
    const win = `${prefix}{lazy|${scope.agentId}}:win:llm_call`;
    expect(await admin.zcard(win)).toBe(100);
  });

  it("turns a Redis error into StoreUnavailableError, and the gate into a DENY", async () => {
    const own = testPrefix("wrongtype");
    const store = new RedisStore({ client, prefix: own });
    const g = gate(store, [{ action: "llm_call", allowed: true, denyAfter: 3 }]);
    // Someone else's data sits where the usage counter belongs.
    await admin.lpush(`${own}{${encodeURIComponent(g.policy.name)}|${identity.id}}:used:llm_call`, "x");
    const d = await g.check("llm_call");
    expect(d).toMatchObject({ type: "deny", code: "store_unavailable" });
    expect(d.reason).toMatch(/state store unavailable, failing closed: Redis failed to consume: .*WRONGTYPE/);
    await deleteKeys(admin, own);
  });

  it("settles escalations that have no reservation or call record", async () => {
    const own = testPrefix("bare");
    const store = new RedisStore({ client, prefix: own });
    const req = request({ escalate: true });
    const decision = makeDecision({
      id: req.decisionId,
      type: "escalate",
      code: "require_approval",
      agentId: req.scope.agentId,
      agentName: "x",
      action: "a",
      target: undefined,
      reason: "r",
      timestamp: new Date(req.now).toISOString(),
      policy: req.scope.policy,
      escalationId: req.escalationId,
    });
    const record: EscalationRecord = {
      escalationId: req.escalationId,
      status: "pending",
      request: {
        escalationId: req.escalationId,
        agent: { id: req.scope.agentId, name: "x" },
        action: "a",
        reason: "r",
      },
      decision,
      createdAt: req.now,
      expiresAt: req.now + 1000,
    };
    await store.createEscalation(record, 1000);
    const settled = await store.settleEscalation(
      record.escalationId,
      makeDecision({ ...decision, target: undefined, type: "deny", code: "approval_denied" }),
      true,
    );
    expect(settled).toMatchObject({ ok: true, record: { status: "denied" } });
    await deleteKeys(admin, own);
  });

  it("returns frozen decisions from Redis", async () => {
    const store = new RedisStore({ client, prefix });
    const g = gate(store, [{ action: "shell", allowed: true, requireApproval: true }]);
    const esc = await g.check("shell", { callId: "frozen" });
    await g.resolveEscalation(esc.escalationId!, { approved: true, approvedBy: "alice" });
    const again = await g.check("shell", { callId: "frozen" });
    expect(again).toMatchObject({ type: "allow", approvedBy: "alice" });
    expect(Object.isFrozen(again)).toBe(true);
  });
});
