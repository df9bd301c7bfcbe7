import { runStoreConformance } from "@agentgate/core/testing";
import { Redis } from "ioredis";
import { afterAll, describe } from "vitest";
import { RedisStore } from "./index.js";
import { redisUrl, testPrefix } from "./test-utils/redis-env.js";
import { deleteKeys } from "./test-utils/keys.js";

describe.skipIf(redisUrl === null)("RedisStore", () => {
  const prefix = testPrefix("conformance");
  const clients = new Map<RedisStore, Redis>();
  afterAll(async () => {
    const admin = new Redis(redisUrl!);
    await deleteKeys(admin, prefix);
    await admin.quit();
  });

  // Every store gets its own connection, as separate processes would.
  runStoreConformance(
    "RedisStore",
    () => {
      const client = new Redis(redisUrl!);
      const store = new RedisStore({ client, prefix });
      clients.set(store, client);
      return store;
    },
    {
      shared: true,
      cleanup: async (store) => {
        store.close?.();
        await clients.get(store as RedisStore)?.quit();
        clients.delete(store as RedisStore);
      },
    },
  );
});
