import type { RedisClient } from "./bounded.js";

/**
 * Calls per pipeline at most. A full batch goes out at once instead of at the
 * end of the tick, so Redis runs it while this process prepares the next: with
 * one pipeline per tick the two took turns, and at concurrency 50 on an idle
 * 2-core machine that cost more than the writes it saved (p50 1.13x of
 * rate-limiter-flexible with one batch per tick, 0.53x with batches of 16).
 */
const MAX_BATCH = 16;

type Item = { args: (string | number)[]; resolve: (v: unknown) => void; reject: (e: unknown) => void };

/**
 * Sends one script's calls, batching those made while others are in flight
 * into pipelines (one socket write, one read on the server) of up to
 * `MAX_BATCH` calls, the last one at the end of the tick.
 * A lone call (nothing in flight, the concurrency-1 case) goes out at once:
 * it never waits for a tick. Each call is still its own atomic script;
 * batching only changes how they travel. Off on a Cluster, whose pipelines
 * must stay within one slot.
 */
export class ScriptBatch {
  readonly #client: RedisClient;
  readonly #name: string;
  readonly #fn: (...args: (string | number)[]) => Promise<unknown>;
  readonly #batching: boolean;
  #inflight = 0;
  #queue: Item[] = [];
  readonly #done = (value: unknown): unknown => {
    this.#inflight--;
    return value;
  };
  readonly #failed = (error: unknown): never => {
    this.#inflight--;
    throw error;
  };

  constructor(client: RedisClient, name: string) {
    this.#client = client;
    this.#name = name;
    const fn = (client as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>)[name]!;
    this.#fn = fn.bind(client);
    this.#batching = !client.isCluster;
  }

  send(args: (string | number)[]): Promise<unknown> {
    if (this.#inflight === 0 || !this.#batching) {
      this.#inflight++;
      return this.#fn(...args).then(this.#done, this.#failed);
    }
    return new Promise((resolve, reject) => {
      const queued = this.#queue.push({ args, resolve, reject });
      if (queued === 1) process.nextTick(this.#flush);
      else if (queued === MAX_BATCH) this.#flush();
    });
  }

  readonly #flush = (): void => {
    const queue = this.#queue;
    if (queue.length === 0) return; // sent early, full
    this.#queue = [];
    // Commands only go out on a ready connection (see BoundedClient): never into ioredis' offline queue.
    if (this.#client.status !== "ready") {
      const error = new Error(`Redis is not connected (connection ${this.#client.status})`);
      for (const item of queue) item.reject(error);
      return;
    }
    const pipe = this.#client.pipeline() as unknown as Record<string, (...a: (string | number)[]) => unknown> & {
      exec(): Promise<[Error | null, unknown][] | null>;
    };
    for (const item of queue) pipe[this.#name]!(...item.args);
    this.#inflight += queue.length;
    pipe.exec().then(
      (results) => {
        this.#inflight -= queue.length;
        for (let i = 0; i < queue.length; i++) {
          const r = results?.[i];
          if (!r) queue[i]!.reject(new Error("Redis returned no reply for a pipelined script"));
          else if (r[0]) queue[i]!.reject(r[0]);
          else queue[i]!.resolve(r[1]);
        }
      },
      (error: unknown) => {
        this.#inflight -= queue.length;
        for (const item of queue) item.reject(error);
      },
    );
  };
}
