import { errorText } from "@agentgate/core/internal";
import { StoreUnavailableError } from "@agentgate/core";
import type { Cluster, Redis } from "ioredis";

/** The clients `RedisStore` accepts: a standalone ioredis client or a Cluster. */
export type RedisClient = Redis | Cluster;

/** Connection states in which ioredis would only queue a command: answer at once instead. */
const DOWN = new Set<string>(["reconnecting", "close", "end", "disconnecting"]);

/**
 * Runs Redis commands with a hard deadline, so a check never waits on
 * ioredis' offline queue or reconnect retries. A known-down connection fails
 * at once; a connection that is still coming up (first connect, `lazyConnect`)
 * is waited for until the deadline. Commands are only sent on a ready
 * connection, so a check that timed out is not silently queued for later.
 */
export class BoundedClient {
  readonly client: RedisClient;
  readonly timeoutMs: number;
  #ready: Promise<void> | undefined;
  #onReady: (() => void) | undefined;
  /** Pending operations in start order: their expiry callback (undefined once settled) and deadline. */
  readonly #expires: ((() => void) | undefined)[] = [];
  readonly #deadlines: number[] = [];
  /** Slot number of `#expires[0]`. */
  #base = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(client: RedisClient, timeoutMs: number) {
    this.client = client;
    this.timeoutMs = timeoutMs;
  }

  run<T>(what: string, op: () => Promise<T>): Promise<T> {
    const status = this.client.status as string;
    if (status !== "ready" && DOWN.has(status)) {
      return Promise.reject(new StoreUnavailableError(`Redis is not connected (connection ${status}), cannot ${what}`));
    }
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const slot = this.#watch(() => {
        done = true;
        reject(
          new StoreUnavailableError(
            `Redis did not answer within ${this.timeoutMs} ms (commandTimeoutMs), cannot ${what}`,
          ),
        );
      });
      const go = () => {
        if (done) return;
        let p: Promise<T>;
        try {
          p = op();
        } catch (error) {
          p = Promise.reject(error);
        }
        p.then(
          (value) => {
            if (done) return;
            done = true;
            this.#release(slot);
            resolve(value);
          },
          (error: unknown) => {
            if (done) return;
            done = true;
            this.#release(slot);
            reject(
              StoreUnavailableError.isInstance(error)
                ? error
                : new StoreUnavailableError(`Redis failed to ${what}: ${errorText(error)}`, { cause: error }),
            );
          },
        );
      };
      if (status === "ready") go();
      else {
        if (status === "wait") this.client.connect().catch(() => {});
        void this.#whenReady().then(go);
      }
    });
  }

  /**
   * Deadlines share one timer: every operation gets the same timeout, so they
   * expire in the order they started (a FIFO), and a check costs no timer of
   * its own (a setTimeout/clearTimeout pair per check was ~3 µs of ~55). A
   * settled operation drops its callback at once, so nothing of it outlives
   * it but a slot. Returns the operation's slot number.
   */
  #watch(expire: () => void): number {
    this.#expires.push(expire);
    this.#deadlines.push(performance.now() + this.timeoutMs);
    if (this.#timer === undefined) this.#arm(this.timeoutMs);
    return this.#base + this.#expires.length - 1;
  }

  #release(slot: number): void {
    const i = slot - this.#base;
    if (i >= 0 && i < this.#expires.length) this.#expires[i] = undefined;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => this.#sweep(), Math.max(1, Math.ceil(ms)));
    // In-flight commands keep the process alive through the client's socket, not this timer.
    this.#timer.unref?.();
  }

  #sweep(): void {
    this.#timer = undefined;
    const now = performance.now();
    const expires = this.#expires;
    const at = this.#deadlines;
    let i = 0;
    for (; i < expires.length; i++) {
      const expire = expires[i];
      if (expire === undefined) continue;
      if (at[i]! > now) break;
      expires[i] = undefined;
      expire();
    }
    if (i > 0) {
      expires.splice(0, i);
      at.splice(0, i);
      this.#base += i;
    }
    if (expires.length > 0) this.#arm(at[0]! - now);
  }

  /** One shared listener for everyone waiting on the connection. */
  #whenReady(): Promise<void> {
    if (this.#ready === undefined) {
      this.#ready = new Promise<void>((resolve) => {
        this.#onReady = () => {
          this.#ready = undefined;
          this.#onReady = undefined;
          resolve();
        };
        this.client.once("ready", this.#onReady);
      });
    }
    return this.#ready;
  }

  /** Stops waiting for the connection (the client itself stays open: it is the caller's). */
  dispose(): void {
    if (this.#onReady) this.client.off("ready", this.#onReady);
    this.#onReady = undefined;
    this.#ready = undefined;
  }
}
