import { StoreUnavailableError } from "@agentgate/core";
import type { Cluster, Redis } from "ioredis";

/** The clients `RedisStore` accepts: a standalone ioredis client or a Cluster. */
export type RedisClient = Redis | Cluster;

/** An operation's deadline; `done` once it settled either way. */
interface Deadline {
  at: number;
  done: boolean;
  expire: () => void;
}

/** Connection states in which ioredis would only queue a command: answer at once instead. */
const DOWN = new Set<string>(["reconnecting", "close", "end", "disconnecting"]);

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

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
  readonly #deadlines: Deadline[] = [];
  #head = 0;
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
      const entry: Deadline = {
        at: performance.now() + this.timeoutMs,
        done: false,
        expire: () => reject(new StoreUnavailableError(`Redis did not answer within ${this.timeoutMs} ms (commandTimeoutMs), cannot ${what}`)),
      };
      this.#watch(entry);
      const go = () => {
        if (entry.done) return;
        let p: Promise<T>;
        try {
          p = op();
        } catch (error) {
          p = Promise.reject(error);
        }
        p.then(
          (value) => {
            if (entry.done) return;
            entry.done = true;
            resolve(value);
          },
          (error: unknown) => {
            if (entry.done) return;
            entry.done = true;
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
   * its own (a setTimeout/clearTimeout pair per check was a tenth of its latency).
   */
  #watch(entry: Deadline): void {
    this.#deadlines.push(entry);
    if (this.#timer === undefined) this.#arm(this.timeoutMs);
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => this.#sweep(), Math.max(1, Math.ceil(ms)));
    // In-flight commands keep the process alive through the client's socket, not this timer.
    this.#timer.unref?.();
  }

  #sweep(): void {
    this.#timer = undefined;
    const now = performance.now();
    const q = this.#deadlines;
    let i = this.#head;
    for (; i < q.length; i++) {
      const e = q[i]!;
      if (e.done) continue;
      if (e.at > now) break;
      e.done = true;
      e.expire();
    }
    if (i >= q.length) {
      q.length = 0;
      this.#head = 0;
      return;
    }
    this.#head = i;
    if (i > 1024 && i * 2 > q.length) {
      q.splice(0, i);
      this.#head = 0;
    }
    this.#arm(q[this.#head]!.at - now);
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
