import { StoreUnavailableError } from "@agentgate/core";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BoundedClient } from "./bounded.js";
import { redisServerBin } from "./test-utils/redis-env.js";
import { startRedisServer, type RedisServer } from "./test-utils/redis-server.js";

describe.skipIf(!redisServerBin)("BoundedClient deadlines (one shared timer)", () => {
  let server: RedisServer;
  let client: Redis;
  beforeAll(async () => {
    server = await startRedisServer();
    client = new Redis(server.url);
    client.on("error", () => {});
    await client.ping();
  });
  afterAll(async () => {
    server.resume();
    client.disconnect();
    await server.dispose();
  });

  it("each of many staggered operations on a hung server rejects at its own deadline, never before", async () => {
    const bounded = new BoundedClient(client, 300);
    expect(await bounded.run("ping", () => client.ping())).toBe("PONG");
    server.pause();
    try {
      const results = [];
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        results.push(
          bounded
            .run(`op ${i}`, () => client.ping())
            .then(
              () => ({ ok: true, ms: performance.now() - started, error: undefined }),
              (error: unknown) => ({ ok: false, ms: performance.now() - started, error }),
            ),
        );
        await new Promise((r) => setTimeout(r, 100)); // later ones start while earlier ones wait
      }
      for (const [i, r] of (await Promise.all(results)).entries()) {
        expect(r.ok).toBe(false);
        expect(StoreUnavailableError.isInstance(r.error)).toBe(true);
        expect((r.error as Error).message).toBe(
          `Redis did not answer within 300 ms (commandTimeoutMs), cannot op ${i}`,
        );
        expect(r.ms).toBeGreaterThanOrEqual(299);
        expect(r.ms).toBeLessThan(300 + 1_500); // generous: a busy machine, not a benchmark
      }
    } finally {
      server.resume();
    }
    // Answers that arrive after their deadline are dropped; new operations work again.
    expect(await bounded.run("ping", () => client.ping())).toBe("PONG");
  });
});
