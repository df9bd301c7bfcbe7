import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BoundedMap } from "./bounded-map.js";

describe("BoundedMap", () => {
  it("keeps the newest `limit` keys, like a Map that drops its oldest new key", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 12 }), fc.integer()), { maxLength: 60 }),
        (limit, ops) => {
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
        },
      ),
    );
  });

  it("allocates nothing up front: a big limit costs nothing until keys arrive", () => {
    const maps = Array.from({ length: 2000 }, () => new BoundedMap<number>(100_000));
    // 2000 maps with a preallocated 100 000-slot ring would hold 1.6 GB; lazily they hold almost nothing.
    expect(maps.every((m) => m.size === 0)).toBe(true);
    maps[0]!.set("a", 1);
    expect(maps[0]!.get("a")).toBe(1);
  });

  it("take reads a key once, and never holds more than `limit` keys or a stale value", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 8 }), fc.integer()), { maxLength: 80 }),
        (limit, ops) => {
          const bounded = new BoundedMap<number>(limit);
          const last = new Map<string, number>();
          let newest: string | undefined;
          for (const [take, k, v] of ops) {
            const key = String(k);
            if (take) {
              const had = bounded.get(key);
              expect(bounded.take(key)).toBe(had);
              expect(bounded.get(key)).toBeUndefined();
              last.delete(key);
              if (newest === key) newest = undefined;
            } else {
              bounded.set(key, v);
              last.set(key, v);
              newest = key;
            }
            expect(bounded.size).toBeLessThanOrEqual(limit);
            // Whatever is present holds the value last set since the key was last taken.
            for (let n = 0; n <= 8; n++) {
              const got = bounded.get(String(n));
              if (got !== undefined) expect(got).toBe(last.get(String(n)));
            }
            if (limit > 0 && newest !== undefined) expect(bounded.get(newest)).toBe(last.get(newest));
          }
        },
      ),
    );
  });

  it("a key set again after take is not evicted by the slot it left", () => {
    const bounded = new BoundedMap<number>(2);
    bounded.set("a", 1);
    expect(bounded.take("a")).toBe(1);
    expect(bounded.take("a")).toBeUndefined();
    bounded.set("b", 2);
    bounded.set("a", 3); // evicts the slot "a" left, not the live "a"
    expect(bounded.get("a")).toBe(3);
    expect(bounded.get("b")).toBe(2);
    bounded.set("c", 4); // now the oldest live key, "b", goes
    expect(bounded.get("b")).toBeUndefined();
    expect(bounded.get("a")).toBe(3);
    expect(bounded.get("c")).toBe(4);
  });
});
