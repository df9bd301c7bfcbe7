import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BoundedMap } from "./bounded-map.js";

describe("BoundedMap", () => {
  it("keeps the newest `limit` keys, like a Map that drops its oldest new key", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 12 }), fc.integer()), { maxLength: 60 }), (limit, ops) => {
        const bounded = new BoundedMap<number>(limit);
        const model = new Map<string, number>();
        for (const [k, v] of ops) {
          const key = String(k);
          bounded.set(key, v);
          if (model.has(key)) model.set(key, v);
          else if (limit > 0) {
            if (model.size >= limit) model.delete(model.keys().next().value!);
            model.set(key, v);
          }
        }
        expect(bounded.size).toBe(model.size);
        for (let k = 0; k <= 12; k++) expect(bounded.get(String(k))).toBe(model.get(String(k)));
      }),
    );
  });

  it("allocates nothing up front: a big limit costs nothing until keys arrive", () => {
    const maps = Array.from({ length: 2000 }, () => new BoundedMap<number>(100_000));
    // 2000 maps with a preallocated 100 000-slot ring would hold 1.6 GB; lazily they hold almost nothing.
    expect(maps.every((m) => m.size === 0)).toBe(true);
    maps[0]!.set("a", 1);
    expect(maps[0]!.get("a")).toBe(1);
  });
});
