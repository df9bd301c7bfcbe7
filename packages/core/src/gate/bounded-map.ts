/**
 * A map that keeps its newest `limit` keys, evicting the oldest first. The oldest key comes
 * from a ring of keys in insertion order: deleting a `Map`'s first entry and asking
 * `keys().next()` for the new first one walks over every deleted slot V8 has not compacted
 * yet, which made each eviction cost O(limit).
 */
export class BoundedMap<V> {
  readonly #map = new Map<string, V>();
  readonly #ring: (string | undefined)[];
  readonly #limit: number;
  #head = 0;

  constructor(limit: number) {
    this.#limit = limit;
    this.#ring = new Array<string | undefined>(limit).fill(undefined);
  }

  get(key: string): V | undefined {
    return this.#map.get(key);
  }

  get size(): number {
    return this.#map.size;
  }

  /** Same order semantics as `if (size >= limit) delete(oldest); set(key, value)` on a Map. */
  set(key: string, value: V): void {
    const map = this.#map;
    if (map.size >= this.#limit) {
      const i = this.#head;
      map.delete(this.#ring[i]!);
      this.#ring[i] = undefined;
      this.#head = i + 1 === this.#limit ? 0 : i + 1;
    }
    if (!map.has(key)) {
      const tail = this.#head + map.size;
      this.#ring[tail >= this.#limit ? tail - this.#limit : tail] = key;
    }
    map.set(key, value);
  }
}
