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

  next(): string {
    if (this.#counter === 0 || this.#counter >= 0xffffffffffff) this.#reseed();
    const n = this.#counter++;
    const high = Math.floor(n / 4096);
    if (high !== this.#baseOf) {
      this.#baseOf = high;
      this.#base = this.#prefix + high.toString(16).padStart(9, "0");
    }
    // The last 3 hex digits from a shared table: one concatenation per id.
    return this.#base + LOW_HEX[n % 4096]!;
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
