import { StoreUnavailableError } from "@agentgate/core";
import type { Redis } from "ioredis";
import type { BoundedClient, RedisClient } from "./bounded.js";
import { slotOf } from "./slot.js";

/** Refusals of a server's settings: never a reason to fall back to in-process limits. */
export const refusals = new WeakSet<object>();

function refuse(message: string): StoreUnavailableError {
  const error = new StoreUnavailableError(message);
  refusals.add(error);
  return error;
}

/** A failed startup check is tried again after this long (the operator may have fixed the setting). */
const RECHECK_MS = 5_000;

/** Policies that may evict keys with a TTL (every AgentGate key has one). */
export function evicts(policy: string): boolean {
  return policy.startsWith("volatile-") || policy.startsWith("allkeys-");
}

/** `maxmemory-policy` of one server: `CONFIG GET`, else `INFO memory` (managed Redis often forbids CONFIG). */
async function evictionPolicy(node: Redis): Promise<string | undefined> {
  try {
    const reply = (await node.config("GET", "maxmemory-policy")) as unknown as string[];
    if (Array.isArray(reply) && typeof reply[1] === "string") return reply[1];
  } catch {
    // CONFIG is disabled or renamed: INFO carries the same setting.
  }
  try {
    const info = await node.info("memory");
    return /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
  } catch {
    return undefined;
  }
}

function nodesOf(client: RedisClient): Redis[] {
  return "nodes" in client && typeof client.nodes === "function" && client.isCluster
    ? client.nodes("master")
    : [client as Redis];
}

function label(node: Redis): string {
  const o = node.options;
  return `${o.host ?? "127.0.0.1"}:${o.port ?? 6379}`;
}

export interface GuardOptions {
  allowEviction: boolean;
  prefix: string;
  warn: (message: string) => void;
}

/**
 * What a store checks before it trusts a Redis: that no `maxmemory-policy` can
 * evict its keys (evicted usage totals silently reset lifetime limits), and
 * that the data it saw is still there (an epoch key per server: a restart
 * without persistence, a FLUSHALL or a failover to an empty replica loses it).
 * Runs before the first operation and again after every reconnect.
 */
export class ServerGuard {
  readonly #redis: BoundedClient;
  readonly #o: GuardOptions;
  /** Epoch value this store last saw, per epoch key. */
  readonly #epochs = new Map<string, string>();
  #checked: Promise<void> | undefined;
  /** Connection generation the running or last check was made on, and the last one that passed. */
  #checkedGen = -1;
  #passedGen = -1;
  #failedAt = 0;
  readonly #gen: { n: number };

  constructor(redis: BoundedClient, options: GuardOptions) {
    this.#redis = redis;
    this.#o = options;
    this.#gen = generation(redis.client);
  }

  /** The last check passed and the client did not reconnect since: operations skip the await. */
  get passed(): boolean {
    return this.#passedGen === this.#gen.n;
  }

  /** Resolves once this connection's server(s) passed; rejects with `StoreUnavailableError` naming the problem. */
  check(): Promise<void> {
    const gen = this.#gen.n;
    if (
      this.#checked === undefined ||
      this.#checkedGen !== gen ||
      (this.#failedAt > 0 && Date.now() - this.#failedAt > RECHECK_MS)
    ) {
      this.#failedAt = 0;
      this.#checkedGen = gen;
      // The commands go out once the connection is ready: a check started before the
      // first "ready" checked that connection, not the one before it.
      let ranOn = gen;
      const run = this.#redis.run("check the Redis server", () => {
        ranOn = this.#gen.n;
        return this.#run();
      });
      this.#checked = run;
      run.then(
        () => {
          if (this.#checked === run) this.#checkedGen = this.#passedGen = ranOn;
        },
        () => {
          if (this.#checked === run) this.#failedAt = Date.now();
        },
      );
    }
    return this.#checked;
  }

  async #run(): Promise<void> {
    const client = this.#redis.client;
    const nodes = nodesOf(client);
    if (!this.#o.allowEviction) {
      const policies = await Promise.all(nodes.map(evictionPolicy));
      for (const [i, policy] of policies.entries()) {
        if (policy === undefined) {
          throw refuse(
            `cannot read maxmemory-policy of Redis ${label(nodes[i]!)} (CONFIG GET and INFO memory both failed): AgentGate needs maxmemory-policy noeviction, or pass allowEviction: true to RedisStore if you have checked it yourself`,
          );
        }
        if (evicts(policy)) {
          throw refuse(
            `Redis ${label(nodes[i]!)} has maxmemory-policy ${policy}, which can evict AgentGate's keys (every one has a TTL) and so reset lifetime limits (deny_after): set maxmemory-policy noeviction, or pass allowEviction: true to RedisStore to accept that`,
          );
        }
      }
    }
    await this.#epoch(client);
  }

  /** One epoch key per primary: a missing or changed one means the data was lost since we last looked. */
  async #epoch(client: RedisClient): Promise<void> {
    const keys = client.isCluster
      ? epochKeys(this.#o.prefix, client as unknown as { slots: string[][] })
      : [`${this.#o.prefix}{epoch}`];
    const fresh = `${Date.now()}-${globalThis.crypto.randomUUID()}`;
    await Promise.all(
      keys.map(async (key) => {
        // A new epoch when there is none (SET NX), else the one there is. No TTL:
        // it must outlive every other key, so its absence means they are gone too.
        const created = (await client.set(key, fresh, "NX")) === "OK";
        const old = created ? null : await client.get(key);
        const current = old ?? fresh;
        const seen = this.#epochs.get(key);
        if (seen !== undefined && seen !== current) {
          this.#o.warn(
            `Redis lost AgentGate's data (store epoch ${key} ${old === null ? "was missing" : "changed"}): usage totals, call records and pending escalations were reset, so lifetime limits (deny_after) started over. Redis restarted without persistence, was flushed, or failed over to an empty replica: enable appendonly yes (see the README's "Running in production")`,
          );
        }
        this.#epochs.set(key, current);
      }),
    );
  }

  /** Nothing to release: the reconnect listener is one per client, shared by every store on it. */
  dispose(): void {}
}

/** Counts a client's (re)connections with one listener per client, however many stores use it. */
const generations = new WeakMap<object, { n: number }>();

function generation(client: RedisClient): { n: number } {
  let g = generations.get(client);
  if (g === undefined) {
    const counter = { n: 0 };
    client.on("ready", () => {
      counter.n++;
    });
    generations.set(client, counter);
    g = counter;
  }
  return g;
}

/** For a Cluster: one key per primary, hash-tagged into a slot that primary serves now. */
function epochKeys(prefix: string, cluster: { slots: string[][] }): string[] {
  const owners = new Map<string, string>();
  for (let i = 0; owners.size < new Set(cluster.slots.map((s) => s?.[0])).size && i < 10_000; i++) {
    const key = `${prefix}{epoch-${i}}`;
    const owner = cluster.slots[slotOf(`epoch-${i}`)]?.[0];
    if (owner !== undefined && !owners.has(owner)) owners.set(owner, key);
  }
  return [...owners.values()];
}
