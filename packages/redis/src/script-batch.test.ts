import { StoreUnavailableError, type ConsumeRequest, type ConsumeResult } from "@agentgate/core";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { RedisStore } from "./index.js";
import { deleteKeys } from "./test-utils/keys.js";
import { redisServerBin, redisUrl, testPrefix } from "./test-utils/redis-env.js";
import { startRedisServer } from "./test-utils/redis-server.js";

function request(agentId: string, o: Partial<ConsumeRequest> = {}): ConsumeRequest {
  const scope = { policy: "batch", agentId, action: "llm_call" };
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

const tally = (rs: ConsumeResult[]) =>
  rs.reduce<Record<string, number>>((t, r) => ((t[r.outcome] = (t[r.outcome] ?? 0) + 1), t), {});

describe.skipIf(redisUrl === null)("checks in flight together travel pipelined", () => {
  const prefix = testPrefix("batch");
  const clients: Redis[] = [];
  const open = () => {
    const c = new Redis(redisUrl!);
    clients.push(c);
    return c;
  };
  afterAll(async () => {
    const admin = new Redis(redisUrl!);
    await deleteKeys(admin, prefix);
    await admin.quit();
    await Promise.all(clients.map((c) => c.quit().catch(() => {})));
  });

  it("stay exact: 300 rate-only checks at once against 100 per minute admit 100", async () => {
    const store = new RedisStore({ client: open(), prefix });
    await store.verify();
    const agent = globalThis.crypto.randomUUID();
    const rs = await Promise.all(
      Array.from({ length: 300 }, () => store.consume(request(agent, { maxPerMinute: 100 }))),
    );
    expect(tally(rs)).toEqual({ allow: 100, rate_limit: 200 });
    for (const r of rs.filter((x) => x.outcome === "rate_limit")) expect(r.retryAfterMs).toBeGreaterThan(0);
  });

  it("stay exact with call records and thresholds: 300 calls at once against deny_after 50", async () => {
    const store = new RedisStore({ client: open(), prefix });
    await store.verify();
    const agent = globalThis.crypto.randomUUID();
    const rs = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        store.consume(
          request(agent, { denyAfter: 50, call: { key: `batch:${agent}:call-${i}`, fingerprint: "f", ttlMs: 60_000 } }),
        ),
      ),
    );
    expect(tally(rs)).toEqual({ allow: 50, deny_after: 250 });
    // Each call's record was written by its own script: a repeat answers from it.
    const again = await store.consume(
      request(agent, { denyAfter: 50, call: { key: `batch:${agent}:call-7`, fingerprint: "f", ttlMs: 60_000 } }),
    );
    expect(again.repeat?.outcome).toBe(rs[7]!.outcome);
  });

  it.skipIf(!redisServerBin)("fail closed together when the connection drops with a batch in flight", async () => {
    // A server of its own, stopped (SIGSTOP) so that nothing sent is answered before the drop.
    const server = await startRedisServer();
    try {
      const client = new Redis(server.url);
      clients.push(client);
      const store = new RedisStore({ client, prefix, commandTimeoutMs: 5_000 });
      await store.verify();
      const agent = globalThis.crypto.randomUUID();
      server.pause();
      const pending = Array.from({ length: 50 }, () =>
        store.consume(request(agent, { maxPerMinute: 1000 })).then(
          () => "answered",
          (e: unknown) => e,
        ),
      );
      await new Promise((r) => setTimeout(r, 50)); // the first is on the wire, the rest batched behind it
      client.disconnect();
      const outcomes = await Promise.all(pending);
      // None is answered, and every one fails because of the drop, not at the command timeout.
      expect(outcomes.filter((o) => o === "answered")).toEqual([]);
      for (const e of outcomes) {
        expect(StoreUnavailableError.isInstance(e), String(e)).toBe(true);
        expect((e as Error).message).not.toMatch(/did not answer within/);
      }
    } finally {
      server.resume();
      await server.dispose();
    }
  });
});
