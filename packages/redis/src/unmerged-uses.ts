import type { BoundedClient } from "./bounded.js";

/** Ids and keys remembered from fallback mode, at most this many of each. */
export const MAX_LOCAL_IDS = 100_000;

/** Adds `id` to a bounded set, dropping the oldest. */
export function remember(set: Set<string>, id: string): void {
  if (set.size >= MAX_LOCAL_IDS) {
    const oldest = set.values().next().value;
    if (oldest !== undefined) set.delete(oldest);
  }
  set.add(id);
}

/**
 * Uses counted in fallback mode (`fallback: "memory"`) and not yet added to
 * Redis' totals: usage key -> count. Merged before the next shared check, so
 * lifetime limits see them once Redis is back.
 */
export class UnmergedUses {
  readonly #counts = new Map<string, number>();
  #merging: Promise<void> | undefined;

  get size(): number {
    return this.#counts.size;
  }

  add(usageKey: string): void {
    if (this.#counts.has(usageKey) || this.#counts.size < MAX_LOCAL_IDS)
      this.#counts.set(usageKey, (this.#counts.get(usageKey) ?? 0) + 1);
  }

  /** INCRBY each total. A merge that timed out after Redis ran it may count twice: more uses, never fewer. */
  merge(redis: BoundedClient, usagePx: number): Promise<void> {
    this.#merging ??= (async () => {
      const batch = [...this.#counts];
      const client = redis.client;
      try {
        await redis.run("merge the uses counted while Redis was down", () =>
          Promise.all(batch.flatMap(([key, n]) => [client.incrby(key, n), client.pexpire(key, usagePx)])),
        );
        for (const [key, n] of batch) {
          const left = (this.#counts.get(key) ?? 0) - n;
          if (left > 0) this.#counts.set(key, left);
          else this.#counts.delete(key);
        }
      } finally {
        this.#merging = undefined;
      }
    })();
    return this.#merging;
  }
}
