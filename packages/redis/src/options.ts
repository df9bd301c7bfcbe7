import type { RedisClient } from "./bounded.js";

/** Options of `RedisStore`. */
export interface RedisStoreOptions {
  /** An ioredis client (`new Redis(url)`) or `Cluster`. It stays yours: `close()` does not quit it. */
  client: RedisClient;
  /** Prepended to every key. Default `"agentgate:"`. Must not contain `{` or `}`. */
  prefix?: string;
  /**
   * Longest wait for Redis per operation, connecting included. Past it the
   * operation rejects with `StoreUnavailableError` and the gate DENYs.
   * Default 1000 ms.
   */
  commandTimeoutMs?: number;
  /**
   * Opt-in: while Redis is unavailable, decide with in-process limits (a
   * `MemoryStore` per `RedisStore`) instead of denying. Such decisions carry
   * `mode: "local-fallback"`. Limits then hold per process only. Uses counted
   * meanwhile (for `denyAfter` / `escalateAfter`) are added to Redis' totals
   * before the next shared check, so lifetime limits see them once Redis is back.
   */
  fallback?: "memory";
  /**
   * How long an idle agent's usage total (for `denyAfter` / `escalateAfter`)
   * is kept, refreshed on every counted use. Default 30 days.
   */
  usageTtlMs?: number;
  /**
   * Accept a server whose `maxmemory-policy` can evict keys (`volatile-*`,
   * `allkeys-*`). By default the store refuses such a server (every operation
   * rejects, so the gate DENYs, naming the setting): every AgentGate key has a
   * TTL, so eviction silently resets lifetime limits. Also needed when neither
   * `CONFIG GET` nor `INFO` may be run. Default false.
   */
  allowEviction?: boolean;
  /**
   * Most pending escalations one agent may have under one policy. Past it a
   * new escalation is refused (the gate DENYs, saying so) and its reserved use
   * is given back: one flooding agent cannot bury everyone's approvals.
   * Default 1000.
   */
  maxPendingEscalations?: number;
  /**
   * Where the store reports what the gate should know but that does not stop
   * a check: today, that Redis lost AgentGate's data (restart without
   * persistence, flush, failover to an empty replica). Default `console.warn`.
   */
  onWarning?: (message: string) => void;
}
