/**
 * A small, bounded map keyed by the model's call id. Entries are taken (read
 * once and removed). Bounded because a paused run that never resumes must
 * not grow it forever.
 */
export class CallMemo<T> {
  readonly #entries = new Map<string, T>();
  readonly #limit: number;

  constructor(limit = 1000) {
    this.#limit = limit;
  }

  set(callId: string | undefined, value: T): void {
    if (!callId) return;
    this.#entries.delete(callId);
    this.#entries.set(callId, value);
    while (this.#entries.size > this.#limit) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  /** Reads without removing. */
  get(callId: string | undefined): T | undefined {
    return callId ? this.#entries.get(callId) : undefined;
  }

  take(callId: string | undefined): T | undefined {
    if (!callId) return undefined;
    const value = this.#entries.get(callId);
    this.#entries.delete(callId);
    return value;
  }
}
