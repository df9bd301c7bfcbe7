import type { ConsumeRequest, ConsumeResult, GateStore, MaybePromise } from "../gate/store.js";
import type { RequestOptions, Scope } from "./fixtures.js";

/** Options of {@link runStoreConformance}. */
export interface StoreConformanceOptions {
  /**
   * Stores returned by separate `makeStore()` calls share one backend (a
   * network store such as Redis). Enables the cases where one store instance
   * writes and another reads, as two processes would.
   */
  shared?: boolean;
  /** Runs after each case for every store it made. Default: `store.close?.()`. */
  cleanup?: (store: GateStore) => MaybePromise<void>;
  /** Timeout of each case in ms. Default 20 000. */
  timeoutMs?: number;
}

/** What each group of conformance cases gets from {@link runStoreConformance}. */
export interface ConformanceContext {
  options: StoreConformanceOptions;
  /** A fresh store, cleaned up after the case. */
  store(): Promise<GateStore>;
  /** A second handle on the same state: another instance when shared, else the same one. */
  peer(s: GateStore): Promise<GateStore>;
  consume(s: GateStore, sc: Scope, now: number, o?: RequestOptions): Promise<ConsumeResult>;
  /** Runs `n` consumes at once (each started without awaiting the others). */
  burst(s: GateStore, n: number, make: (i: number) => ConsumeRequest): Promise<ConsumeResult[]>;
}

export const T0 = Date.UTC(2026, 0, 1);
export const CONCURRENCY = 100;
