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

// A real three-primary Redis Cluster on 127.0.0.1, started for this file; the last test adds a replica
// to one primary and promotes it.
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

  describe("with checks running", () => {
    const rules: ActionRule[] = [
      { action: "tool_use", allowed: true, denyAfter: 400 },
      { action: "shell", allowed: true, requireApproval: true },
    ];

    /**
     * One agent's gates on two Cluster clients (as two workers would hold), with a policy
     * name whose tag `place` accepts, and `busy`: checks from both gates, two at
     * a time, for as long as `work` runs (then the checks made meanwhile).
     */
    async function twoClients(
      label: string,
      place: (tag: string, prefix: string) => Promise<boolean> = async () => true,
    ) {
      const prefix = testPrefix(label);
      const warnings: string[] = [];
      // A deadline longer than a failover's write pause: no check times out, so none is counted unseen.
      const options = { prefix, commandTimeoutMs: 10_000, onWarning: (m: string) => warnings.push(m) };
      const stores = [
        new RedisStore({ client: client(), ...options }),
        new RedisStore({ client: client(), ...options }),
      ];
      const identity = await AgentIdentity.create(`${label}-bot`);
      let name: string;
      let tag: string;
      do {
        name = `${label}-${globalThis.crypto.randomUUID()}`;
        tag = `${prefix}{${encodeURIComponent(name)}|${encodeURIComponent(identity.id)}}`;
      } while (!(await place(tag, prefix)));
      const policy = new PermissionPolicy({ name, rules });
      const gates = stores.map((store) => new GateKeeper({ identity, policy, store })) as [GateKeeper, GateKeeper];
      const burst = async (n: number): Promise<Decision[]> =>
        Promise.all(gates.flatMap((g) => Array.from({ length: n }, () => g.check("tool_use"))));
      const busy = async (work: Promise<void>): Promise<Decision[]> => {
        let done = false;
        const finished = work.finally(() => (done = true));
        const seen: Decision[] = [];
        do {
          seen.push(...(await burst(1)));
          await new Promise((r) => setTimeout(r, 5));
        } while (!done);
        await finished;
        return seen;
      };
      /** Checks until deny_after: every check after the move must be decided through Redis. */
      const drain = async (): Promise<Decision[]> => {
        const after: Decision[] = [];
        for (let i = 0; i < 10 && !after.some((d) => d.code === "deny_after"); i++) after.push(...(await burst(50)));
        return after;
      };
      return { gates, tag, warnings, burst, busy, drain, close: () => stores.forEach((s) => s.close()) };
    }

    it("an agent's slot migrates while gates on two clients check: denyAfter stays exact, its escalations resolve after", async () => {
      const w = await twoClients("migrate-live");
      const [a, b] = w.gates;
      const raised: Decision[] = [];
      for (const id of ["m1", "m2", "m3"]) raised.push(await a.check("shell", { target: id, callId: id }));
      const first = await w.burst(10);
      const from = await cluster.nodeFor(w.tag);
      const to = cluster.nodes.find((n) => n !== from)!;
      const during = await w.busy(cluster.migrateSlotOf(w.tag, to, 50));
      expect(await cluster.nodeFor(w.tag)).toBe(to);
      expect(during.length).toBeGreaterThan(0);
      // A check that met the migration half-way is a DENY (fail closed), never an extra ALLOW.
      for (const d of during) expect(d.type === "allow" || d.code === "store_unavailable").toBe(true);
      // The escalations moved with the slot: listed and settled through the other client, replayed by the first.
      const ids = (rs: { escalationId?: string }[]) => rs.map((r) => r.escalationId).sort();
      expect(ids(await b.pendingEscalations())).toEqual(ids(raised));
      const approved = await b.resolveEscalation(raised[0]!.escalationId!, { approved: true, approvedBy: "alice" });
      expect(approved).toMatchObject({ type: "allow", approvedBy: "alice" });
      expect(await a.check("shell", { target: "m1", callId: "m1" })).toEqual(approved);
      expect((await a.resolveEscalation(raised[1]!.escalationId!, false)).type).toBe("deny");
      expect(ids(await b.pendingEscalations())).toEqual([raised[2]!.escalationId]);
      const after = await w.drain();
      expect(after.filter((d) => d.code === "store_unavailable")).toHaveLength(0);
      expect([...first, ...during, ...after].filter((d) => d.type === "allow")).toHaveLength(400);
      w.close();
    }, 90_000); // a slot moved key by key, with checks running, on a busy machine

    // Last in the file: afterwards one of `cluster.nodes` is a replica.
    it("a replica promoted by CLUSTER FAILOVER while gates on two clients check: exact, no data-loss alarm, escalations resolve", async () => {
      // The agent's keys and the escalation pointers on one primary: the failover moves both.
      const w = await twoClients(
        "failover-live",
        async (tag, prefix) => (await cluster.nodeFor(tag)) === (await cluster.nodeFor(`${prefix}{esc}:pending`)),
      );
      const [a, b] = w.gates;
      const raised = await a.check("shell", { target: "f1", callId: "f1" });
      const first = await w.burst(10);
      const primary = await cluster.nodeFor(w.tag);
      const replica = await cluster.addReplica(primary);
      const during = await w.busy(cluster.failover(replica));
      expect(await cluster.nodeFor(w.tag)).toBe(replica);
      expect(during.length).toBeGreaterThan(0);
      for (const d of during) expect(d.type === "allow" || d.code === "store_unavailable").toBe(true);
      const approved = await b.resolveEscalation(raised.escalationId!, { approved: true, approvedBy: "bob" });
      expect(approved).toMatchObject({ type: "allow", approvedBy: "bob" });
      expect(await a.check("shell", { target: "f1", callId: "f1" })).toEqual(approved);
      expect(await b.pendingEscalations()).toEqual([]);
      const after = await w.drain();
      expect(after.filter((d) => d.code === "store_unavailable")).toHaveLength(0);
      expect([...first, ...during, ...after].filter((d) => d.type === "allow")).toHaveLength(400);
      // The promoted replica had every write (a manual failover waits for it): not reported as lost data.
      expect(w.warnings.filter((m) => /lost AgentGate's data/.test(m))).toEqual([]);
      w.close();
    }, 90_000); // a replica sync and a failover each wait up to 20 s on a busy machine
  });
});
