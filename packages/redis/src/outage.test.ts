import {
  AgentIdentity,
  GateKeeper,
  PermissionPolicy,
  StoreUnavailableError,
  type ActionRule,
  type Decision,
} from "@agentgate/core";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisStore } from "./index.js";
import { redisServerBin } from "./test-utils/redis-env.js";
import { startRedisServer, type RedisServer } from "./test-utils/redis-server.js";

const TIMEOUT_MS = 400;
/** "Never hangs": generous headroom over commandTimeoutMs for a busy machine. This is not a benchmark. */
const BOUND_MS = TIMEOUT_MS + 2_000;

async function timed<T>(op: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await op();
  return { value, ms: performance.now() - start };
}

/** Polls `check` until it returns a decision `accept` likes (ioredis reconnects with backoff). */
async function eventually(
  check: () => Promise<Decision>,
  accept: (d: Decision) => boolean,
  timeoutMs = 15_000,
): Promise<Decision> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await check();
    if (accept(d) || Date.now() > deadline) return d;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function expectUnavailable(d: Decision): void {
  expect(d).toMatchObject({ type: "deny", code: "store_unavailable" });
  expect(d.reason).toMatch(/^state store unavailable, failing closed: Redis /);
  expect(d.mode).toBeUndefined();
}

describe.skipIf(!redisServerBin)("Redis stopped in the middle of a run", () => {
  let server: RedisServer;
  let client: Redis;
  const identity = AgentIdentity.create("outage-bot");

  beforeAll(async () => {
    server = await startRedisServer();
    // An ordinary client: default offline queue and reconnect strategy.
    client = new Redis(server.url);
    client.on("error", () => {});
  });
  afterAll(async () => {
    client.disconnect();
    await server.dispose();
  });

  async function gateWith(store: RedisStore, rules: ActionRule[]) {
    const policy = new PermissionPolicy({ name: `outage-${globalThis.crypto.randomUUID()}`, rules });
    return new GateKeeper({ identity: await identity, policy, store });
  }

  it("fails closed within the command timeout while Redis hangs or is gone, then recovers by itself", async () => {
    const store = new RedisStore({ client, commandTimeoutMs: TIMEOUT_MS });
    const gate = await gateWith(store, [{ action: "llm_call", allowed: true, maxPerMinute: 1000 }]);
    expect((await gate.check("llm_call")).type).toBe("allow");

    // Alive but not answering (SIGSTOP): the command timeout decides.
    server.pause();
    try {
      const hung = await timed(() => gate.check("llm_call"));
      expectUnavailable(hung.value);
      expect(hung.value.reason).toMatch(/did not answer within 400 ms/);
      expect(hung.ms).toBeLessThan(BOUND_MS);
    } finally {
      server.resume();
    }
    expect(
      (
        await eventually(
          () => gate.check("llm_call"),
          (d) => d.type === "allow",
        )
      ).type,
    ).toBe("allow");

    // Gone (SIGKILL): every check is a DENY, quickly, and nothing throws or hangs.
    await server.stop("SIGKILL");
    const during = await Promise.all(
      Array.from({ length: 20 }, () => timed(() => gate.check("llm_call", { callId: globalThis.crypto.randomUUID() }))),
    );
    for (const { value, ms } of during) {
      expectUnavailable(value);
      expect(ms).toBeLessThan(BOUND_MS);
    }
    const later = await timed(() => gate.check("llm_call"));
    expectUnavailable(later.value);
    expect(later.value.reason).toMatch(/not connected|did not answer/);
    expect(later.ms).toBeLessThan(BOUND_MS);
    // The escalation API rejects with the store error instead of hanging.
    await expect(gate.pendingEscalations()).rejects.toSatisfy(StoreUnavailableError.isInstance);
    await expect(gate.resolveEscalation("some-id", true)).rejects.toSatisfy(StoreUnavailableError.isInstance);

    // Back on the same port: the same client and store recover without help.
    await server.restart();
    const recovered = await eventually(
      () => gate.check("llm_call"),
      (d) => d.type === "allow",
    );
    expect(recovered).toMatchObject({ type: "allow", code: "allowed" });
    expect(recovered.mode).toBeUndefined();
  });

  it('fallback: "memory" decides with in-process limits while Redis is gone, says so, and hands back', async () => {
    const store = new RedisStore({ client, commandTimeoutMs: TIMEOUT_MS, fallback: "memory" });
    const gate = await gateWith(store, [
      { action: "llm_call", allowed: true, maxPerMinute: 3 },
      { action: "shell", allowed: true, requireApproval: true },
    ]);
    const up = await eventually(
      () => gate.check("llm_call"),
      (d) => d.type === "allow",
    );
    expect(up.mode).toBeUndefined();

    await server.stop("SIGKILL");
    const local = [];
    for (let i = 0; i < 4; i++) local.push(await gate.check("llm_call"));
    expect(local.map((d) => [d.type, d.mode])).toEqual([
      ["allow", "local-fallback"],
      ["allow", "local-fallback"],
      ["allow", "local-fallback"],
      ["deny", "local-fallback"],
    ]);
    expect(local[0]!.reason).toContain("[decided with in-process limits: shared store unavailable]");
    expect(local[3]).toMatchObject({ code: "rate_limit" });

    // Escalations raised meanwhile live in the process, and still settle exactly once.
    const raised = await gate.check("shell", { target: "reboot", callId: "s1" });
    expect(raised).toMatchObject({ type: "escalate", mode: "local-fallback" });
    expect((await gate.pendingEscalations()).map((r) => r.escalationId)).toEqual([raised.escalationId]);
    const approved = await gate.resolveEscalation(raised.escalationId!, { approved: true, approvedBy: "alice" });
    expect(approved).toMatchObject({ type: "allow", approvedBy: "alice", mode: "local-fallback" });
    await expect(gate.resolveEscalation(raised.escalationId!, false)).rejects.toThrow(/already settled/);

    await server.restart();
    const back = await eventually(
      () => gate.check("llm_call"),
      (d) => d.mode === undefined,
    );
    expect(back).toMatchObject({ type: "allow" });
    // A call decided locally keeps its decision after Redis is back.
    expect(await gate.check("shell", { target: "reboot", callId: "s1" })).toEqual(approved);
  });

  it('fallback: "memory" adds the uses counted while Redis was down to its totals once it is back', async () => {
    const store = new RedisStore({
      client,
      commandTimeoutMs: TIMEOUT_MS,
      fallback: "memory",
      allowEviction: true,
      onWarning: () => {},
    });
    const gate = await gateWith(store, [{ action: "deploy", allowed: true, denyAfter: 6 }]);
    await eventually(
      () => gate.check("deploy", "a"),
      (d) => d.type === "allow" && d.mode === undefined,
    );
    expect((await gate.check("deploy", "b")).mode).toBeUndefined(); // 2 counted in Redis

    await server.stop("SIGKILL");
    // (A check sent before the client saw the close would be resent by ioredis on reconnect: counted twice, never less.)
    for (let i = 0; i < 200 && client.status === "ready"; i++) await new Promise((r) => setTimeout(r, 10));
    const local = [];
    for (let i = 0; i < 3; i++) local.push(await gate.check("deploy", `l${i}`));
    expect(local.map((d) => [d.type, d.mode])).toEqual(Array(3).fill(["allow", "local-fallback"])); // 3 counted here

    // Redis comes back empty (this server has no persistence: the 2 are gone); the 3
    // local uses are added before the next shared check, so 3 uses are left, not 6.
    const reconnected = new Promise((r) => client.once("ready", r));
    await server.restart();
    await reconnected; // (checks before this would still be decided, and counted, locally)
    const after = [await gate.check("deploy", "c")];
    for (let i = 0; i < 4; i++) after.push(await gate.check("deploy", `d${i}`));
    expect(after.map((d) => d.type)).toEqual(["allow", "allow", "allow", "deny", "deny"]);
    expect(after[3]).toMatchObject({ code: "deny_after" });
    expect(after.every((d) => d.mode === undefined)).toBe(true);
  });
});
