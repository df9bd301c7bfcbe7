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
   * new escalation is refused (the gate DENYs with code `escalation_limit`) and
   * its reserved use is given back: one flooding agent cannot bury everyone's approvals.
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

const DEFAULT_USAGE_TTL_MS = 30 * 24 * 60 * 60_000;
const DEFAULT_MAX_PENDING = 1000;

/** The options checked, with their defaults filled in. */
export interface ResolvedOptions {
  client: RedisClient;
  prefix: string;
  commandTimeoutMs: number;
  fallback: boolean;
  /** `usageTtlMs` as a whole PX. */
  usagePx: number;
  allowEviction: boolean;
  maxPendingEscalations: number;
  warn: (message: string) => void;
}

/** Checks `RedisStore`'s options; a wrong one throws a `TypeError` naming it. */
export function resolveOptions(options: RedisStoreOptions): ResolvedOptions {
  if (!options || typeof options !== "object") throw new TypeError("RedisStore needs { client }");
  const { client } = options;
  if (!client || typeof (client as { defineCommand?: unknown }).defineCommand !== "function") {
    throw new TypeError("RedisStore: client must be an ioredis Redis or Cluster instance");
  }
  const prefix = options.prefix ?? "agentgate:";
  if (typeof prefix !== "string" || /[{}]/.test(prefix)) {
    throw new TypeError("RedisStore: prefix must be a string without { or } (they would break the hash tags)");
  }
  const timeout = options.commandTimeoutMs ?? 1000;
  if (typeof timeout !== "number" || !Number.isFinite(timeout) || timeout <= 0) {
    throw new TypeError("RedisStore: commandTimeoutMs must be a positive number");
  }
  const usageTtl = options.usageTtlMs ?? DEFAULT_USAGE_TTL_MS;
  if (typeof usageTtl !== "number" || !Number.isFinite(usageTtl) || usageTtl < 1) {
    throw new TypeError("RedisStore: usageTtlMs must be a positive number");
  }
  if (options.fallback !== undefined && options.fallback !== "memory") {
    throw new TypeError('RedisStore: fallback must be "memory" or left out');
  }
  const maxPending = options.maxPendingEscalations ?? DEFAULT_MAX_PENDING;
  if (!Number.isSafeInteger(maxPending) || maxPending < 1)
    throw new TypeError("RedisStore: maxPendingEscalations must be a positive integer");
  if (options.onWarning !== undefined && typeof options.onWarning !== "function")
    throw new TypeError("RedisStore: onWarning must be a function");
  return {
    client,
    prefix,
    commandTimeoutMs: timeout,
    fallback: options.fallback === "memory",
    usagePx: Math.ceil(usageTtl),
    allowEviction: options.allowEviction === true,
    maxPendingEscalations: maxPending,
    warn: options.onWarning ?? ((m: string) => console.warn(`[agentgate] ${m}`)),
  };
}
