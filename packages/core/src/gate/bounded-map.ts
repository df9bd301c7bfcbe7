/**
 * A map that keeps its newest `limit` keys, evicting the oldest first, in O(1): the oldest key
 * comes from a ring of keys in insertion order (a `Map`'s own first key can cost O(limit) to
 * find after many deletes). Nothing is allocated before the first key and the ring grows with
 * the map, so an idle map (one per gate and per store) costs a few bytes, not `limit` slots.
 */
export class BoundedMap<V> {
  #map: Map<string, V> | undefined;
  #ring: (string | undefined)[] | undefined;
  readonly #limit: number;
  /** Keys removed by `take` whose ring slot is still waiting to come round, with how many such slots each has. */
  #taken: Map<string, number> | undefined;
  #head = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get(key: string): V | undefined {
    return this.#map?.get(key);
  }

  get size(): number {
    return this.#map?.size ?? 0;
  }

  /** Adds a key as the newest, evicting the oldest when full; a known key gets the new value and keeps its age. */
  set(key: string, value: V): void {
    if (!(this.#limit > 0)) return;
    let map = this.#map;
    let ring = this.#ring;
    if (map === undefined || ring === undefined) {
      // The first key in an exact-size ring: a push would reserve 17 slots in every idle gate's maps.
      this.#map = new Map([[key, value]]);
      this.#ring = [key];
      return;
    }
    if (map.has(key)) {
      map.set(key, value);
      return;
    }
    if (ring.length < this.#limit) {
      // Still filling: keys go at the end, in insertion order, and nothing is evicted.
      ring.push(key);
    } else {
      // Full: the slot at the head holds the oldest key; the new key takes its place.
      const i = this.#head;
      const oldest = ring[i]!;
      // A slot left by `take` holds no live entry: the key may be live again in a newer slot.
      const taken = this.#taken;
      const stale = taken === undefined || taken.size === 0 ? undefined : taken.get(oldest);
      if (stale === undefined) map.delete(oldest);
      else if (stale === 1) taken!.delete(oldest);
      else taken!.set(oldest, stale - 1);
      ring[i] = key;
      this.#head = i + 1 === this.#limit ? 0 : i + 1;
    }
    map.set(key, value);
  }

  /**
   * Reads a key and removes it. Its ring slot is freed when eviction reaches it, so a map that
   * takes keys may evict a live key before it holds `limit` of them; it never holds more.
   */
  take(key: string): V | undefined {
    const map = this.#map;
    if (map === undefined) return undefined;
    const value = map.get(key);
    if (value === undefined && !map.has(key)) return undefined;
    map.delete(key);
    const taken = (this.#taken ??= new Map());
    taken.set(key, (taken.get(key) ?? 0) + 1);
    return value;
  }
}
