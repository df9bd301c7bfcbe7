/**
 * The last id made by a gate that has audit sinks, and its parts (`id === base + LOW_HEX[low]`), so an
 * encoder can write the id from them: an id is a concatenation, and its first read character by character
 * would flatten it (a copy per decision). `serial` changes whenever `base` does. Gates without sinks never
 * write it (no cost on their checks).
 */
export const lastDecisionId: { id: string | undefined; base: string; serial: number; low: number } = {
  id: undefined,
  base: "",
  serial: 0,
  low: 0,
};

let serials = 0;

/**
 * Decision ids in UUID layout: a random 80-bit prefix per gate plus a counter.
 * Unique (across processes too) and far cheaper than a fresh random UUID per check;
 * ids are identifiers, not secrets.
 */
export class DecisionIds {
  #prefix = "";
  #counter = 0;
  /** `#prefix` plus the counter's upper 9 hex digits, rebuilt every 4096 ids. */
  #base = "";
  #baseOf = -1;
  #serial = 0;
  /** Publish each id in `lastDecisionId` (the gate has audit sinks). */
  readonly #publish: boolean;

  constructor(publish = false) {
    this.#publish = publish;
  }

  next(): string {
    if (this.#counter === 0 || this.#counter >= 0xffffffffffff) this.#reseed();
    const n = this.#counter++;
    const high = Math.floor(n / 4096);
    if (high !== this.#baseOf) {
      this.#baseOf = high;
      this.#base = this.#prefix + high.toString(16).padStart(9, "0");
      this.#serial = ++serials;
    }
    // The last 3 hex digits from a shared table: one concatenation per id.
    const low = n % 4096;
    const id = this.#base + LOW_HEX[low]!;
    if (this.#publish) {
      const last = lastDecisionId;
      last.id = id;
      last.base = this.#base;
      last.serial = this.#serial;
      last.low = low;
    }
    return id;
  }

  #reseed(): void {
    const u = globalThis.crypto.randomUUID();
    this.#prefix = u.slice(0, 24);
    this.#counter = 1 + Math.floor(Math.random() * 0xffffffff);
    this.#baseOf = -1;
  }
}

/** "000" to "fff". */
const LOW_HEX: readonly string[] = Array.from({ length: 4096 }, (_, i) => i.toString(16).padStart(3, "0"));
