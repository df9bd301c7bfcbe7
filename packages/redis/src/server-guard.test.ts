import {
  AgentIdentity,
  GateKeeper,
  PermissionPolicy,
  StoreUnavailableError,
  type ActionRule,
  type Decision,
} from "@agentgate/core";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { RedisStore, type RedisStoreOptions } from "./index.js";
import { redisServerBin } from "./test-utils/redis-env.js";
import { startRedisServer, type RedisServer } from "./test-utils/redis-server.js";

const identity = await AgentIdentity.create("guard-bot");

describe.skipIf(!redisServerBin)("RedisStore checks the server it is given", () => {
  const servers: RedisServer[] = [];
  const clients: Redis[] = [];
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await Promise.all(servers.map((s) => s.dispose()));
  });

  async function server(...args: string[]): Promise<RedisServer> {
    const s = await startRedisServer(undefined, args);
    servers.push(s);
    return s;
  }

  function setup(s: RedisServer, rules: ActionRule[], options: Partial<RedisStoreOptions> = {}) {
    const client = new Redis(s.url, { retryStrategy: () => 50 });
    client.on("error", () => {});
    clients.push(client);
    const store = new RedisStore({ client, commandTimeoutMs: 2_000, ...options });
    const policy = new PermissionPolicy({ name: `guard-${globalThis.crypto.randomUUID()}`, rules });
    return { client, store, gate: new GateKeeper({ identity, policy, store }) };
  }

  const budget: ActionRule[] = [{ action: "deploy", allowed: true, denyAfter: 3 }];

  it("refuses maxmemory-policy volatile-lru at start, naming the setting; allowEviction opts in", async () => {
    const s = await server("--maxmemory", "64mb", "--maxmemory-policy", "volatile-lru");
    const { store, gate } = setup(s, budget);
    const error = await store.verify().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(StoreUnavailableError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(
      /maxmemory-policy volatile-lru.*set maxmemory-policy noeviction, or pass allowEviction: true/,
    );
    const d = await gate.check("deploy");
    expect(d).toMatchObject({ type: "deny", code: "store_unavailable" });
    expect(d.reason).toMatch(/maxmemory-policy volatile-lru/);
    // Nothing was counted while refused.
    const opted = setup(s, budget, { allowEviction: true });
    await opted.store.verify();
    expect((await opted.gate.check("deploy")).type).toBe("allow");
  });

  it("refuses allkeys-* too, and does not fall back to in-process limits for it", async () => {
    const s = await server("--maxmemory-policy", "allkeys-lfu");
    const { gate } = setup(s, budget, { fallback: "memory" });
    const d = await gate.check("deploy");
    expect(d).toMatchObject({ type: "deny", code: "store_unavailable" });
    expect(d.reason).toMatch(/maxmemory-policy allkeys-lfu/);
    expect(d.mode).toBeUndefined();
  });

  it("reads the policy from INFO when CONFIG is disabled (as on managed Redis)", async () => {
    const s = await server("--maxmemory-policy", "volatile-ttl", "--rename-command", "CONFIG", "");
    const { store, client } = setup(s, budget);
    await expect(client.config("GET", "maxmemory-policy")).rejects.toThrow(/unknown command/i);
    await expect(store.verify()).rejects.toThrow(/maxmemory-policy volatile-ttl/);
    const fine = await server("--rename-command", "CONFIG", "");
    await setup(fine, budget).store.verify();
  });

  it("accepts noeviction (Redis' default) and works", async () => {
    const s = await server("--maxmemory-policy", "noeviction");
    const { gate } = setup(s, budget);
    const all = await Promise.all(Array.from({ length: 5 }, () => gate.check("deploy")));
    expect(all.filter((d) => d.type === "allow")).toHaveLength(3);
  });

  it("many stores on one client share one reconnect listener", async () => {
    const s = await server();
    const { client } = setup(s, budget);
    const before = client.listenerCount("ready");
    const stores = Array.from({ length: 30 }, () => new RedisStore({ client }));
    await Promise.all(stores.map((st) => st.verify()));
    expect(client.listenerCount("ready")).toBe(before);
  });

  async function afterReconnect(gate: GateKeeper): Promise<Decision> {
    for (let i = 0; i < 100; i++) {
      const d = await gate.check("deploy");
      if (d.code !== "store_unavailable") return d;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("never reconnected");
  }

  it("reports a restart without persistence through onWarning instead of silently resetting limits", async () => {
    const s = await server();
    const warnings: string[] = [];
    const { gate, client } = setup(s, budget, { onWarning: (m) => warnings.push(m) });
    expect((await gate.check("deploy")).type).toBe("allow");
    expect((await gate.check("deploy")).type).toBe("allow");
    expect(warnings).toEqual([]);
    const reconnected = new Promise((r) => client.once("ready", r));
    await s.restart(); // SIGKILL, no RDB, no AOF: every key is gone
    await reconnected;
    await afterReconnect(gate);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /Redis lost AgentGate's data \(store epoch .* was missing\).*deny_after.*appendonly yes/,
    );
    // Reported once per loss, not on every check.
    await gate.check("deploy");
    expect(warnings).toHaveLength(1);
  });

  it("a restart with AOF persistence keeps the counts and warns about nothing", async () => {
    const s = await server("--appendonly", "yes", "--appendfsync", "always");
    const warnings: string[] = [];
    const { gate } = setup(s, budget, { onWarning: (m) => warnings.push(m) });
    expect((await gate.check("deploy")).type).toBe("allow");
    expect((await gate.check("deploy")).type).toBe("allow");
    await s.restart();
    expect((await afterReconnect(gate)).type).toBe("allow");
    expect(await gate.check("deploy")).toMatchObject({ type: "deny", code: "deny_after" });
    expect(warnings).toEqual([]);
  });
});
