import {
  AgentIdentity,
  GateKeeper,
  PermissionPolicy,
  type ActionRule,
  type Decision,
  type PolicyConfig,
} from "@agentgate/core";
import { runStoreConformance } from "@agentgate/core/testing";
import { Redis, type Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisStore } from "./index.js";
import { startRedisCluster, type RedisCluster } from "./test-utils/redis-cluster.js";
import type { RedisServer } from "./test-utils/redis-server.js";
import { builtEntry, redisServerBin, testPrefix } from "./test-utils/redis-env.js";
import { spawnWorker, type Worker } from "./test-utils/workers.js";

type Brief = { type: string; code: string };

// A real three-primary Redis Cluster (no replicas) on 127.0.0.1, started for this file.
describe.skipIf(!redisServerBin)("RedisStore on a three-primary Redis Cluster", () => {
  let cluster: RedisCluster;
  const clients: Cluster[] = [];
  const client = () => {
    const c = cluster.client();
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    cluster = await startRedisCluster(3);
  }, 60_000);
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await cluster?.dispose();
  });

  /** Runs `op` on a plain connection to one node. */
  async function on<T>(node: RedisServer, op: (r: Redis) => Promise<T>): Promise<T> {
    const r = new Redis(node.port, "127.0.0.1");
    try {
      return await op(r);
    } finally {
      r.disconnect();
    }
  }

  /** A policy name whose agent tag hashes to a node other than the escalation index's. */
  async function policyAwayFromIndex(store: RedisStore, agentId: string): Promise<string> {
    const index = await cluster.nodeFor(`${store.prefix}{esc}:pending`);
    for (;;) {
      const name = `p-${globalThis.crypto.randomUUID()}`;
      const tag = `${store.prefix}{${encodeURIComponent(name)}|${encodeURIComponent(agentId)}}`;
      if ((await cluster.nodeFor(tag)) !== index) return name;
    }
  }

  it("really is a cluster: three primaries, each serving a third of the slots", async () => {
    const c = client();
    await c.ping();
    const masters = c.nodes("master");
    expect(masters).toHaveLength(3);
    const slots = (await masters[0]!.cluster("SLOTS")) as [number, number][];
    expect(slots).toHaveLength(3);
    expect(slots.reduce((n, [from, to]) => n + to - from + 1, 0)).toBe(16_384);
  });

  it("keeps one store epoch per primary, and refuses an evicting policy on any of them", async () => {
    const store = new RedisStore({ client: client(), prefix: testPrefix("cluster-epoch") });
    await store.verify();
    const perNode = await Promise.all(cluster.nodes.map((n) => on(n, (r) => r.keys(`${store.prefix}{epoch-*}`))));
    expect(perNode.map((keys) => keys.length)).toEqual([1, 1, 1]);
    // One primary switched to volatile-lru: the whole store refuses, naming it.
    const node = cluster.nodes[1]!;
    await on(node, (r) => r.config("SET", "maxmemory-policy", "volatile-lru"));
    try {
      const fresh = new RedisStore({ client: client(), prefix: store.prefix });
      await expect(fresh.verify()).rejects.toThrow(
        new RegExp(`Redis 127\\.0\\.0\\.1:${node.port} has maxmemory-policy volatile-lru`),
      );
    } finally {
      await on(node, (r) => r.config("SET", "maxmemory-policy", "noeviction"));
    }
  });

  describe("the store conformance suite", () => {
    const prefix = testPrefix("cluster-conformance");
    runStoreConformance(
      "RedisStore on Redis Cluster",
      () => new RedisStore({ client: client(), prefix, commandTimeoutMs: 5_000 }),
      {
        shared: true,
        cleanup: (store) => store.close?.(),
      },
    );
  });

  it("checks, escalates and lists pending escalations through a Cluster client", async () => {
    const store = new RedisStore({ client: client(), prefix: testPrefix("cluster-gate") });
    const identity = await AgentIdentity.create("cluster-bot");
    const rules: ActionRule[] = [
      { action: "llm_call", allowed: true, maxPerMinute: 3 },
      { action: "shell", allowed: true, requireApproval: true, denyAfter: 2 },
    ];
    const gate = new GateKeeper({
      identity,
      policy: new PermissionPolicy({ name: await policyAwayFromIndex(store, identity.id), rules }),
      store,
    });
    const checks = await Promise.all(Array.from({ length: 10 }, () => gate.check("llm_call")));
    expect(checks.filter((d) => d.type === "allow")).toHaveLength(3);
    expect(checks.filter((d) => d.code === "rate_limit")).toHaveLength(7);
    const esc = await gate.check("shell", { target: "uptime", callId: "c1" });
    expect(esc.type).toBe("escalate");
    expect((await gate.pendingEscalations()).map((r) => r.escalationId)).toEqual([esc.escalationId]);
    store.close();
  });

  it("an escalation raised on one node's slot is resolved through another connection", async () => {
    const raiser = new RedisStore({ client: client(), prefix: testPrefix("cluster-cross") });
    const approver = new RedisStore({ client: client(), prefix: raiser.prefix });
    const identity = await AgentIdentity.create("cross-node-bot");
    const policy = new PermissionPolicy({
      name: await policyAwayFromIndex(raiser, identity.id),
      rules: [{ action: "shell", allowed: true, requireApproval: true, denyAfter: 5 }],
    });
    const gate = new GateKeeper({ identity, policy, store: raiser });
    const other = new GateKeeper({ identity, policy, store: approver });
    const raised = await gate.check("shell", { target: "deploy", callId: "x1" });
    const tag = `${raiser.prefix}{${encodeURIComponent(policy.name)}|${encodeURIComponent(identity.id)}}`;
    const recordNode = await cluster.nodeFor(`${tag}:esc:${raised.escalationId}`);
    expect(recordNode).not.toBe(await cluster.nodeFor(`${raiser.prefix}{esc}:pending`));
    expect((await other.pendingEscalations()).map((r) => r.escalationId)).toEqual([raised.escalationId]);
    const resolved = await other.resolveEscalation(raised.escalationId!, { approved: true, approvedBy: "alice" });
    expect(resolved).toMatchObject({ type: "allow", approvedBy: "alice" });
    expect(await gate.check("shell", { target: "deploy", callId: "x1" })).toEqual(resolved);
    expect(await gate.pendingEscalations()).toEqual([]);
    raiser.close();
    approver.close();
  });

  describe("two processes", () => {
    const prefix = testPrefix("cluster-processes");
    let workers: Worker[] = [];
    beforeAll(async () => {
      workers = await Promise.all(
        [1, 2].map(() => spawnWorker({ entry: builtEntry, redisUrl: "", prefix, cluster: cluster.startup })),
      );
    });
    afterAll(async () => {
      await Promise.all(workers.map((w) => w.exit()));
    });

    async function setup(policy: PolicyConfig, identity: AgentIdentity) {
      const gate = globalThis.crypto.randomUUID();
      await Promise.all(workers.map((w) => w.setup(gate, identity, policy)));
      return (n: number, action: string) =>
        Promise.all(workers.map((w) => w.send<Brief[]>({ op: "burst", gate, n, action }))).then((all) => all.flat());
    }

    it("keep denyAfter and maxPerMinute exact", async () => {
      const identity = await AgentIdentity.create("cluster-hammer");
      const burst = await setup(
        {
          name: `exact-${globalThis.crypto.randomUUID()}`,
          rules: [
            { action: "tool_use", allowed: true, denyAfter: 40 },
            { action: "llm_call", allowed: true, maxPerMinute: 25 },
          ],
        },
        identity,
      );
      const total = [...(await burst(30, "tool_use")), ...(await burst(30, "tool_use"))];
      expect(total.filter((d) => d.type === "allow")).toHaveLength(40);
      expect(total.filter((d) => d.code === "deny_after")).toHaveLength(80);
      const rate = await burst(40, "llm_call");
      expect(rate.filter((d) => d.type === "allow")).toHaveLength(25);
      expect(rate.filter((d) => d.code === "rate_limit")).toHaveLength(55);
    });

    it("keep denyAfter exact while the agent's slot migrates to another node mid-run", async () => {
      const identity = await AgentIdentity.create("migrating-bot");
      const name = `migrate-${globalThis.crypto.randomUUID()}`;
      const burst = await setup({ name, rules: [{ action: "tool_use", allowed: true, denyAfter: 60 }] }, identity);
      const tag = `${prefix}{${encodeURIComponent(name)}|${encodeURIComponent(identity.id)}}`;
      const before = await cluster.nodeFor(tag);
      const first = await burst(10, "tool_use");
      expect(first.filter((d) => d.type === "allow")).toHaveLength(20);
      // Checks keep coming from both processes while the slot moves.
      const target = cluster.nodes.find((n) => n !== before)!;
      const [during] = await Promise.all([burst(15, "tool_use"), cluster.migrateSlotOf(tag, target)]);
      expect(await cluster.nodeFor(tag)).toBe(target);
      // A check that met the migration half-way is a DENY (fail closed), never an extra ALLOW.
      for (const d of during) expect(d.type === "allow" || d.code === "store_unavailable").toBe(true);
      const after: Brief[] = [];
      for (let i = 0; i < 5 && !after.some((d) => d.code === "deny_after"); i++)
        after.push(...(await burst(20, "tool_use")));
      const allowed = [...first, ...during, ...after].filter((d) => d.type === "allow");
      expect(allowed).toHaveLength(60);
      expect(after.filter((d) => d.code === "store_unavailable")).toHaveLength(0);
    });
  });

  it("the escalation index keeps working after its slot moves", async () => {
    const store = new RedisStore({ client: client(), prefix: testPrefix("cluster-index") });
    const identity = await AgentIdentity.create("index-bot");
    const policy = new PermissionPolicy({
      name: `idx-${globalThis.crypto.randomUUID()}`,
      rules: [{ action: "shell", allowed: true, requireApproval: true }],
    });
    const gate = new GateKeeper({ identity, policy, store });
    const raised: Decision = await gate.check("shell", { target: "a", callId: "i1" });
    const index = `${store.prefix}{esc}:pending`;
    const from = await cluster.nodeFor(index);
    await cluster.migrateSlotOf(index, cluster.nodes.find((n) => n !== from)!);
    expect((await gate.pendingEscalations()).map((r) => r.escalationId)).toEqual([raised.escalationId]);
    expect((await gate.resolveEscalation(raised.escalationId!, false)).type).toBe("deny");
    store.close();
  });
});
