import type { RedisClient } from "./bounded.js";

/**
 * Settle notifications over Redis pub/sub: every settle that wins publishes
 * the escalation id on `<prefix>settled`, and waiters in any process hear it
 * on one subscriber connection per store (opened on first use).
 */
export class SettleEvents {
  readonly #client: RedisClient;
  readonly channel: string;
  readonly #listeners = new Set<(escalationId: string) => void>();
  #subscriber: RedisClient | undefined;
  #ready: Promise<void> | undefined;

  constructor(client: RedisClient, prefix: string) {
    this.#client = client;
    this.channel = `${prefix}settled`;
  }

  /** Best effort: a lost message only means a waiter notices at its next safety re-check. */
  publish(escalationId: string): Promise<void> {
    return this.#client.publish(this.channel, escalationId).then(
      () => undefined,
      () => undefined,
    );
  }

  async listen(listener: (escalationId: string) => void): Promise<() => void> {
    this.#listeners.add(listener);
    try {
      await this.#subscribe();
    } catch (error) {
      this.#listeners.delete(listener);
      throw error;
    }
    return () => {
      this.#listeners.delete(listener);
    };
  }

  #subscribe(): Promise<void> {
    if (this.#ready) return this.#ready;
    const sub = (this.#client as { duplicate(): RedisClient }).duplicate();
    sub.on("error", () => {});
    sub.on("message", (channel: string, message: string) => {
      if (channel !== this.channel) return;
      for (const l of [...this.#listeners]) {
        try {
          l(message);
        } catch {
          // a listener's failure is its own
        }
      }
    });
    this.#subscriber = sub;
    this.#ready = sub.subscribe(this.channel).then(
      () => undefined,
      (error: unknown) => {
        this.#ready = undefined;
        this.#subscriber = undefined;
        sub.disconnect();
        throw error;
      },
    );
    return this.#ready;
  }

  close(): void {
    this.#listeners.clear();
    this.#subscriber?.disconnect();
    this.#subscriber = undefined;
    this.#ready = undefined;
  }
}
