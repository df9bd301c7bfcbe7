import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Cluster, Redis } from "ioredis";
import { freePort, startRedisServer, type RedisServer } from "./redis-server.js";

const run = promisify(execFile);

/** A throwaway Redis Cluster of primaries on 127.0.0.1 (replicas only when added; no persistence). */
export interface RedisCluster {
  /** The primaries it was created with (after a failover, one of them may be a replica). */
  readonly nodes: readonly RedisServer[];
  /** `{ host, port }` of every primary, for `new Cluster(...)`. */
  readonly startup: { host: string; port: number }[];
  /** A new ioredis Cluster client. */
  client(): Cluster;
  /** The primary serving `key`'s slot. */
  nodeFor(key: string): Promise<RedisServer>;
  /**
   * Moves `key`'s slot (with its keys) to `to`, the way `redis-cli --cluster reshard
   * --cluster-pipeline 1` does: one key per MIGRATE, `pauseMs` apart (a slot half-moved for longer).
   */
  migrateSlotOf(key: string, to: RedisServer, pauseMs?: number): Promise<void>;
  /** Starts one more node, joins it as a replica of `primary` and waits until it is in sync. */
  addReplica(primary: RedisServer): Promise<RedisServer>;
  /**
   * `CLUSTER FAILOVER` on `replica` (the coordinated manual failover: the primary
   * stops writes until the replica has caught up, then they swap), and waits
   * until every node sees the replica serving the slots.
   */
  failover(replica: RedisServer): Promise<void>;
  dispose(): Promise<void>;
}

/** `redis-cli` with the arguments, or the error with its output. */
async function cli(...args: string[]): Promise<string> {
  try {
    return (await run("redis-cli", args, { timeout: 30_000 })).stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`redis-cli ${args.join(" ")} failed: ${e.message}\n${e.stdout ?? ""}${e.stderr ?? ""}`);
  }
}

/** Polls `done` every 100 ms for up to 20 s. */
async function until(what: string, done: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const clusterNode = async () => {
  const bus = await freePort();
  return startRedisServer(undefined, [
    "--cluster-enabled",
    "yes",
    "--cluster-port",
    String(bus),
    "--cluster-node-timeout",
    "5000",
  ]);
};

async function admin<T>(node: RedisServer, op: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis(node.port, "127.0.0.1", { maxRetriesPerRequest: 1 });
  try {
    return await op(r);
  } finally {
    r.disconnect();
  }
}

/**
 * Starts `size` `redis-server --cluster-enabled yes` on free ports (cluster bus
 * on free ports too) and joins them with `redis-cli --cluster create`, then
 * waits until every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(size = 3): Promise<RedisCluster> {
  const nodes: RedisServer[] = [];
  try {
    for (let i = 0; i < size; i++) nodes.push(await clusterNode());
    await cli(
      "--cluster",
      "create",
      ...nodes.map((n) => `127.0.0.1:${n.port}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    );
    const deadline = Date.now() + 20_000;
    for (const n of nodes) {
      for (;;) {
        const info = await admin(n, (r) => r.cluster("INFO"));
        if (/cluster_state:ok/.test(info) && /cluster_known_nodes:(\d+)/.exec(info)?.[1] === String(size)) break;
        if (Date.now() > deadline) throw new Error(`cluster node ${n.port} not ready: ${info}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } catch (error) {
    await Promise.all(nodes.map((n) => n.dispose()));
    throw error;
  }
  const startup = nodes.map((n) => ({ host: "127.0.0.1", port: n.port }));
  const all = [...nodes];
  const byId = async (): Promise<Map<string, RedisServer>> => {
    const ids = await Promise.all(nodes.map((n) => admin(n, (r) => r.cluster("MYID"))));
    return new Map(ids.map((id, i) => [String(id), nodes[i]!]));
  };
  const slotOf = (key: string) => admin(nodes[0]!, (r) => r.cluster("KEYSLOT", key));
  const cluster: RedisCluster = {
    nodes,
    startup,
    client: () => new Cluster(startup, { scaleReads: "master", redisOptions: { maxRetriesPerRequest: 1 } }),
    async nodeFor(key) {
      const slot = await slotOf(key);
      const slots = (await admin(nodes[0]!, (r) => r.cluster("SLOTS"))) as unknown as [
        number,
        number,
        [string, number, string],
      ][];
      const owner = slots.find(([from, to]) => slot >= from && slot <= to);
      if (!owner) throw new Error(`no node serves slot ${slot}`);
      return all.find((n) => n.port === owner[2][1])!;
    },
    async migrateSlotOf(key, to, pauseMs = 0) {
      const slot = await slotOf(key);
      const from = await cluster.nodeFor(key);
      if (from === to) return;
      const ids = [...(await byId()).entries()];
      const fromId = ids.find(([, n]) => n === from)![0];
      const toId = ids.find(([, n]) => n === to)![0];
      // The steps of `redis-cli --cluster reshard` for one slot.
      await admin(to, (r) => r.cluster("SETSLOT", slot, "IMPORTING", fromId));
      await admin(from, (r) => r.cluster("SETSLOT", slot, "MIGRATING", toId));
      for (;;) {
        const keys = await admin(from, (r) => r.cluster("GETKEYSINSLOT", slot, 1));
        if (keys.length === 0) break;
        await admin(from, (r) =>
          r.call("MIGRATE", "127.0.0.1", String(to.port), "", "0", "5000", "REPLACE", "KEYS", ...keys),
        );
        if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
      }
      for (const n of nodes) await admin(n, (r) => r.cluster("SETSLOT", slot, "NODE", toId));
    },
    async addReplica(primary) {
      const replica = await clusterNode();
      all.push(replica);
      const primaryId = String(await admin(primary, (r) => r.cluster("MYID")));
      await cli(
        "--cluster",
        "add-node",
        `127.0.0.1:${replica.port}`,
        `127.0.0.1:${primary.port}`,
        "--cluster-slave",
        "--cluster-master-id",
        primaryId,
      );
      await until(`replica ${replica.port} is in sync with ${primary.port}`, async () => {
        const info = await admin(replica, (r) => r.info("replication"));
        return /role:slave/.test(info) && /master_link_status:up/.test(info) && /master_sync_in_progress:0/.test(info);
      });
      return replica;
    },
    async failover(replica) {
      await admin(replica, (r) => r.cluster("FAILOVER"));
      await until(`replica ${replica.port} took over`, async () => {
        const views = await Promise.all(nodes.map((n) => admin(n, (r) => r.cluster("SLOTS"))));
        const role = await admin(replica, (r) => r.info("replication"));
        return /role:master/.test(role) && views.every((v) => v.some(([, , owner]) => owner?.[1] === replica.port));
      });
    },
    async dispose() {
      await Promise.all(all.map((n) => n.dispose()));
    },
  };
  return cluster;
}
