import type { GateStore } from "@agentgate/core";
import { Cluster, Redis } from "ioredis";
import { describe, expectTypeOf, it } from "vitest";
import { RedisStore, type RedisStoreOptions } from "./index.js";

describe("RedisStore types", () => {
  it("is a GateStore built from an ioredis Redis or Cluster", () => {
    expectTypeOf<RedisStore>().toExtend<GateStore>();
    expectTypeOf<Redis>().toExtend<RedisStoreOptions["client"]>();
    expectTypeOf<Cluster>().toExtend<RedisStoreOptions["client"]>();
    expectTypeOf<RedisStoreOptions["fallback"]>().toEqualTypeOf<"memory" | undefined>();
    // @ts-expect-error the client is required
    new RedisStore({ prefix: "x:" });
    // @ts-expect-error only the memory fallback exists
    new RedisStore({ client: new Redis({ lazyConnect: true }), fallback: "disk" });
  });

  it("answers asynchronously", () => {
    expectTypeOf<RedisStore["consume"]>().returns.toEqualTypeOf<Promise<import("@agentgate/core").ConsumeResult>>();
    expectTypeOf<RedisStore["settleEscalation"]>().returns.resolves.toEqualTypeOf<
      import("@agentgate/core").SettleResult
    >();
  });
});
