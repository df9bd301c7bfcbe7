import {
  EscalationError,
  EscalationLimitError,
  MemoryStore,
  StoreUnavailableError,
  type ClaimRequest,
  type ClaimResult,
  type ConsumeRequest,
  type ConsumeResult,
  type Decision,
  type EscalationQuery,
  type EscalationRecord,
  type GateStore,
  type Grant,
  type GrantMatch,
  type GrantStore,
  type SettleResult,
} from "@agentgate/core";
import { BoundedClient, type RedisClient } from "./bounded.js";
import { consumed, rated } from "./consume-reply.js";
import { listAll, listScoped, script, toRecord, unexpected } from "./escalation-lists.js";
import { RedisGrants } from "./grants.js";
import { ScriptBatch } from "./script-batch.js";
import { consumeArgs, isRateOnly } from "./consume-args.js";
import { expiryDigits, KeySpace, retentionPx, type EscalationKeys } from "./keys.js";
import { resolveOptions, type RedisStoreOptions } from "./options.js";
import { ABANDON, CLAIM, CONSUME, CREATE, defineScripts, INDEX, RATE, SETTLE } from "./scripts.js";
import { refusals, ServerGuard } from "./server-guard.js";
import { SettleEvents } from "./settle-events.js";
import { remember, UnmergedUses } from "./unmerged-uses.js";

export type { RedisStoreOptions } from "./options.js";

const FULL_PAGE = 10_000; // a scoped listing without a limit (the per-agent cap bounds it anyway)

const CLAIMS = new Set<string>(["claimed", "replayed", "mismatch", "not_allowed", "unknown"]);

/**
 * A `GateStore` on Redis: limits, per-call records and escalations shared by
 * every process using the same Redis. Each check is one round trip (an atomic
 * Lua script); every key expires. Redis down, erroring or slow rejects with
 * `StoreUnavailableError` within `commandTimeoutMs`, so the gate DENYs, and it
 * recovers by itself when Redis is back (ioredis reconnects).
 *
 * @example
 * ```ts
 * const store = new RedisStore({ client: new Redis(process.env.REDIS_URL) });
 * const gate = new GateKeeper({ identity, policy, store });
 * ```
 */
export class RedisStore implements GateStore, GrantStore {
  readonly client: RedisClient;
  readonly prefix: string;
  /**
   * How long after a call was recorded as ESCALATE its escalation may still be on its way here
   * (`GateStore.escalationWriteWindowMs`): the raising check sends up to five commands, each bounded
   * by `commandTimeoutMs`, before the escalation can be read (a server check after a reconnect, merging
   * fallback uses, `consume`, the record, its index), plus 1 s for clocks and event loops.
   */
  readonly escalationWriteWindowMs: number;
  readonly #redis: BoundedClient;
  readonly #keys: KeySpace;
  readonly #usagePx: number;
  readonly #local: MemoryStore | undefined;
  readonly #localCalls = new Set<string>();
  readonly #localEscalations = new Set<string>();
  readonly #guard: ServerGuard;
  readonly #unmerged = new UnmergedUses();
  readonly #maxPending: number;
  readonly #consumeScript: ScriptBatch;
  readonly #rateScript: ScriptBatch;
  // Grants and settle events (grants.ts, settle-events.ts).
  #grants: RedisGrants | undefined;
  #events: SettleEvents | undefined;

  constructor(options: RedisStoreOptions) {
    const o = resolveOptions(options);
    const client = o.client;
    this.client = client;
    this.prefix = o.prefix;
    this.#redis = new BoundedClient(client, o.commandTimeoutMs);
    this.escalationWriteWindowMs = 5 * o.commandTimeoutMs + 1_000;
    this.#keys = new KeySpace(o.prefix);
    this.#usagePx = o.usagePx;
    this.#local = o.fallback ? new MemoryStore() : undefined;
    this.#maxPending = o.maxPendingEscalations;
    this.#guard = new ServerGuard(this.#redis, { allowEviction: o.allowEviction, prefix: o.prefix, warn: o.warn });
    defineScripts(client);
    this.#consumeScript = new ScriptBatch(client, CONSUME);
    this.#rateScript = new ScriptBatch(client, RATE);
  }

  /** Atomically returns the record of a known call, or applies the limits and reserves a use. One round trip. */
  consume(req: ConsumeRequest): Promise<ConsumeResult> {
    if (this.#local !== undefined || !this.#guard.passed || this.#unmerged.size > 0) return this.#consumeChecked(req);
    try {
      // The common case (server checked, no fallback, nothing to merge) without another async frame.
      return this.#consume(req);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async #consumeChecked(req: ConsumeRequest): Promise<ConsumeResult> {
    if (this.#local && req.call && this.#localCalls.has(req.call.key)) return this.#consumeLocally(req);
    try {
      if (!this.#guard.passed) await this.#guard.check();
      if (this.#unmerged.size > 0) await this.#unmerged.merge(this.#redis, this.#usagePx);
      return await this.#consume(req);
    } catch (error) {
      if (this.#canFallBack(error)) return this.#consumeLocally(req);
      throw error;
    }
  }

  /**
   * Checks the server now (also done before the first operation and after each
   * reconnect): rejects with `StoreUnavailableError` naming the setting when its
   * `maxmemory-policy` can evict AgentGate's keys (unless `allowEviction`), and
   * records the store epoch that later reveals lost data. Call it at startup to
   * fail fast.
   */
  verify(): Promise<void> {
    return this.#guard.check();
  }

  #canFallBack(error: unknown): boolean {
    return this.#local !== undefined && StoreUnavailableError.isInstance(error) && !refusals.has(error);
  }

  #consume(req: ConsumeRequest): Promise<ConsumeResult> {
    const call = req.call;
    if (isRateOnly(req)) {
      const key = this.#keys.window(req.scope);
      return this.#redis
        .run("consume", () => this.#rateScript.send([key, req.now, req.decisionId, req.windowMs, req.maxPerMinute!]))
        .then(rated);
    }
    const args = consumeArgs(this.#keys, req, this.#usagePx);
    return this.#redis.run("consume", () => this.#consumeScript.send(args)).then((reply) => consumed(reply, call));
  }

  /** Claims a recorded call's one run, atomically across every process sharing this Redis. */
  async claimCall(req: ClaimRequest): Promise<ClaimResult> {
    if (this.#local && this.#localCalls.has(req.key)) return this.#local.claimCall(req);
    const key = this.#keys.call(req.scope, req.key);
    const reply = await this.#redis.run("claim the call", () =>
      script(this.client, CLAIM)(
        key,
        String(req.now),
        req.fingerprint,
        String(req.now + req.runTtlMs),
        retentionPx(req.runTtlMs),
      ),
    );
    if (typeof reply !== "string" || !CLAIMS.has(reply)) throw unexpected("claim", reply);
    return reply as ClaimResult;
  }

  #consumeLocally(req: ConsumeRequest): ConsumeResult {
    const r = this.#local!.consume(req);
    if (req.call) remember(this.#localCalls, req.call.key);
    const counted =
      !r.repeat &&
      (r.outcome === "allow" || r.outcome === "escalate") &&
      (req.denyAfter !== undefined || req.escalateAfter !== undefined);
    if (counted) this.#unmerged.add(this.#keys.used(req.scope));
    const out: ConsumeResult = { ...r, fallback: true };
    if (r.repeat) out.repeat = { ...r.repeat, fallback: true };
    return out;
  }

  /** Stores a pending escalation where any process sharing this Redis can find and settle it. */
  async createEscalation(record: EscalationRecord, ttlMs: number): Promise<void> {
    if (this.#local && record.decision.mode === "local-fallback") return this.#createLocally(record);
    try {
      if (!this.#guard.passed) await this.#guard.check();
      const keys = this.#keys.escalation(record);
      const px = retentionPx(ttlMs);
      const res = record.reservation;
      const created = await this.#redis.run("record the escalation", () =>
        script(this.client, CREATE)(
          keys.record,
          keys.index!,
          keys.used,
          keys.window,
          keys.call,
          JSON.stringify(record),
          px,
          keys.indexMember!,
          expiryDigits(record.createdAt + 1),
          this.#maxPending,
          res ? "1" : "0",
          res?.member ?? "",
          keys.hasCall ? "1" : "0",
        ),
      );
      if (created === 0) {
        // Not a store failure: never answered from the memory fallback.
        throw new EscalationLimitError(
          `agent ${record.decision.agentId} already has ${this.#maxPending} pending escalations under policy ${record.decision.policy} (maxPendingEscalations): settle some or let them expire before raising more`,
        );
      }
      if (created === 2) {
        // Abandoned (or settled) before this write landed: its reservation may be given back already.
        throw new EscalationError(
          "AGENTGATE_ESCALATION_SETTLED",
          record.escalationId,
          `escalation ${record.escalationId} is already settled, or was abandoned after a failed write: it is not opened again`,
        );
      }
      if (created !== 1) throw unexpected("create", created);
      const pointer = JSON.stringify(keys);
      await this.#redis.run("index the escalation", () =>
        script(this.client, INDEX)(
          this.#keys.pointer(record.escalationId),
          this.#keys.pending(),
          pointer,
          keys.record,
          String(record.expiresAt),
          px,
        ),
      );
    } catch (error) {
      if (this.#canFallBack(error)) return this.#createLocally(record);
      throw error;
    }
  }

  #createLocally(record: EscalationRecord): void {
    this.#local!.createEscalation(record);
    remember(this.#localEscalations, record.escalationId);
  }

  /** The escalation, pending or settled; `undefined` when unknown or expired from Redis. */
  async getEscalation(escalationId: string): Promise<EscalationRecord | undefined> {
    if (this.#localEscalations.has(escalationId)) return this.#local!.getEscalation(escalationId);
    const keys = await this.#pointer(escalationId);
    if (keys === undefined) return undefined;
    const fields = await this.#redis.run("read the escalation", () =>
      this.client.hmget(keys.record, "status", "record", "settled"),
    );
    const [status, json, settled] = fields as (string | null)[];
    if (!status || !json) return undefined;
    return toRecord(status, json, settled ?? null);
  }

  /** Settles a pending escalation exactly once across every process; releases its reservation when asked. */
  async settleEscalation(escalationId: string, settled: Decision, release: boolean): Promise<SettleResult> {
    if (this.#localEscalations.has(escalationId)) return this.#local!.settleEscalation(escalationId, settled, release);
    const keys = await this.#pointer(escalationId);
    if (keys === undefined) return { ok: false, reason: "unknown" };
    const status = settled.type === "allow" ? "approved" : "denied";
    const reply = await this.#redis.run("settle the escalation", () =>
      script(this.client, SETTLE)(
        keys.record,
        keys.used,
        keys.window,
        keys.call,
        status,
        JSON.stringify(settled),
        release ? "1" : "0",
        keys.member,
        keys.hasReservation ? "1" : "0",
        keys.hasCall ? "1" : "0",
      ),
    );
    if (!Array.isArray(reply)) throw unexpected("settle", reply);
    const [kind, st, json, other] = reply as string[];
    if (kind === "unknown") return { ok: false, reason: "unknown" };
    // An abandoned escalation's tombstone has no record to return.
    if (kind === "settled" && st)
      return json
        ? { ok: false, reason: "settled", record: toRecord(st, json, other || null) }
        : { ok: false, reason: "settled" };
    if (kind !== "ok" || !st || !json) throw unexpected("settle", reply);
    // Off the pending lists (best effort: listing also checks each record's status).
    await this.#redis
      .run("update the pending list", () =>
        Promise.all([
          this.client.zrem(this.#keys.pending(), keys.record),
          keys.index && keys.indexMember ? this.client.zrem(keys.index, keys.indexMember) : 0,
        ]),
      )
      .catch(() => {});
    // Bounded like every command: a Redis that went away after the settle must not hold the answer up.
    await this.#redis.run("announce the settle", () => this.#settleEvents().publish(escalationId)).catch(() => {});
    return { ok: true, record: toRecord(st, json, JSON.stringify(settled)) };
  }

  /**
   * An escalation whose `createEscalation` failed: the DENY goes on its call record (and on its
   * record, if the write landed after all) and its reservation is given back, in one script.
   */
  async abandonEscalation(record: EscalationRecord, settled: Decision): Promise<boolean> {
    if (this.#local && (record.decision.mode === "local-fallback" || this.#localEscalations.has(record.escalationId)))
      return this.#local.abandonEscalation(record, settled);
    if (!this.#guard.passed) await this.#guard.check();
    const keys = this.#keys.escalation(record);
    const reply = await this.#redis.run("abandon the escalation", () =>
      script(this.client, ABANDON)(
        keys.record,
        keys.used,
        keys.window,
        keys.call,
        keys.index!,
        JSON.stringify(settled),
        keys.member,
        keys.hasReservation ? "1" : "0",
        keys.hasCall ? "1" : "0",
        record.escalationId,
        keys.indexMember!,
        retentionPx(record.expiresAt - record.createdAt),
      ),
    );
    if (reply !== 0 && reply !== 1) throw unexpected("abandon", reply);
    // Off the store-wide pending list too, if it got there (best effort: listing checks each status).
    if (reply === 1)
      await this.#redis
        .run("update the pending list", () => this.client.zrem(this.#keys.pending(), keys.record))
        .catch(() => {});
    return reply === 1;
  }

  /**
   * Pending, unexpired escalations of every process sharing this Redis (plus
   * local fallback ones). With `query.scope`, one agent's, from its own index:
   * O(log n + page) whatever other agents have pending; `callKey` is O(1).
   * Without a scope, every agent's (all of them: use it for small stores only).
   */
  async listEscalations(now: number, query: EscalationQuery = {}): Promise<EscalationRecord[]> {
    const local = this.#local ? this.#local.listEscalations(now, query) : [];
    let shared: EscalationRecord[];
    try {
      if (!this.#guard.passed) await this.#guard.check();
      const ctx = { client: this.client, redis: this.#redis, keys: this.#keys };
      shared = query.scope ? await listScoped(ctx, now, query, query.scope, FULL_PAGE) : await listAll(ctx, now);
    } catch (error) {
      if (this.#canFallBack(error)) return local;
      throw error;
    }
    return [...shared, ...local];
  }

  async #pointer(escalationId: string): Promise<EscalationKeys | undefined> {
    if (!this.#guard.passed) await this.#guard.check();
    const raw = await this.#redis.run("find the escalation", () => this.client.get(this.#keys.pointer(escalationId)));
    if (raw === null) return undefined;
    try {
      return JSON.parse(raw) as EscalationKeys;
    } catch (error) {
      throw new StoreUnavailableError(`Redis holds a malformed escalation pointer for ${escalationId}`, {
        cause: error,
      });
    }
  }

  #grantStore(): RedisGrants {
    return (this.#grants ??= new RedisGrants(this.client, this.#redis, this.prefix));
  }

  #settleEvents(): SettleEvents {
    return (this.#events ??= new SettleEvents(this.client, this.prefix));
  }

  /** Stores a grant every process sharing this Redis can use (see `GrantStore`). */
  createGrant(grant: Grant): Promise<void> {
    return this.#grantStore().createGrant(grant);
  }

  /** Atomically spends one use of a live matching grant. */
  useGrant(match: GrantMatch, now: number): Promise<Grant | undefined> {
    return this.#grantStore().useGrant(match, now);
  }

  listGrants(now: number): Promise<Grant[]> {
    return this.#grantStore().listGrants(now);
  }

  revokeGrant(id: string): Promise<Grant | undefined> {
    return this.#grantStore().revokeGrant(id);
  }

  /** Hears every settle in any process (Redis pub/sub on a second connection, opened on first use). */
  onEscalationSettled(listener: (escalationId: string) => void): Promise<() => void> {
    return this.#settleEvents().listen(listener);
  }

  /** Stops waiting on the connection. The ioredis client is yours to `quit()`. */
  close(): void {
    this.#guard.dispose();
    this.#redis.dispose();
    this.#events?.close();
  }
}
