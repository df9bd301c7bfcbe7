import { StoreUnavailableError } from "@agentgate/core";
import type { Cluster, Redis } from "ioredis";

/** The clients `RedisStore` accepts: a standalone ioredis client or a Cluster. */
export type RedisClient = Redis | Cluster;

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
      const timer = setTimeout(() => {
        done = true;
        reject(new StoreUnavailableError(`Redis did not answer within ${this.timeoutMs} ms (commandTimeoutMs), cannot ${what}`));
      }, this.timeoutMs);
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
            clearTimeout(timer);
            resolve(value);
          },
          (error: unknown) => {
            if (done) return;
            done = true;
            clearTimeout(timer);
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
