import type { Decision } from "./decision.js";

/** A fixed-size ring of the latest decisions: memory stays flat however many checks run. */
export class AuditTrail {
  readonly #limit: number;
  readonly #ring: Decision[] = [];
  #next = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  push(decision: Decision): void {
    if (this.#limit <= 0) return;
    if (this.#ring.length < this.#limit) this.#ring.push(decision);
    else {
      this.#ring[this.#next] = decision;
      this.#next = (this.#next + 1) % this.#limit;
    }
  }

  /** Oldest first. */
  toArray(): Decision[] {
    if (this.#ring.length < this.#limit || this.#next === 0) return this.#ring.slice();
    return [...this.#ring.slice(this.#next), ...this.#ring.slice(0, this.#next)];
  }

  get size(): number {
    return this.#ring.length;
  }
}
