import type { Decision, GateKeeper } from "@agentgate/core";

/** What one call id produced, as the model reads it. */
export interface LedgerEntry {
  /** Tool name and raw arguments: a call id never carries over to another input. */
  fingerprint: string;
  /** `ran` and `failed` are final (the function was called once); anything else is decided again on a repeat. */
  status: "running" | "ran" | "denied" | "escalated" | "failed";
  decision?: Decision;
  /** The text the model reads for this call. */
  output?: string;
  /** Callers waiting for a running entry (made only when a concurrent repeat arrives). */
  waiters?: (() => void)[];
}

/** Call ids remembered per gate. Oldest dropped first; a dropped id is decided by the gate again. */
export const LEDGER_LIMIT = 10_000;
/** And at most this many characters of arguments and outputs kept (about 64 MB). */
export const LEDGER_CHARS = 32 * 1024 * 1024;

const sizeOf = (e: LedgerEntry) => e.fingerprint.length + (e.output?.length ?? 0);

/**
 * The calls this package ran or refused for one gate, in this process: it
 * makes each call id run once and lets `verifyToolResults` tell the tool
 * results it produced from forged ones.
 */
export class CallLedger {
  readonly #map = new Map<string, LedgerEntry>();
  // Keys in insertion order, in a ring: evicting through `map.keys().next()` walks over every
  // deleted slot V8 has not compacted yet (core's BoundedMap explains it), O(limit) per call.
  readonly #ring: (string | undefined)[];
  readonly #limit: number;
  readonly #maxChars: number;
  #head = 0;
  #chars = 0;

  constructor(limit = LEDGER_LIMIT, maxChars = LEDGER_CHARS) {
    this.#limit = limit;
    this.#maxChars = maxChars;
    this.#ring = new Array<string | undefined>(limit).fill(undefined);
  }

  get(callId: string): LedgerEntry | undefined {
    return this.#map.get(callId);
  }

  /** Adds or replaces an entry; a replaced entry keeps its age. Never evicts `callId` itself. */
  set(callId: string, entry: LedgerEntry): void {
    const map = this.#map;
    const previous = map.get(callId);
    if (previous !== undefined) {
      this.#chars += sizeOf(entry) - sizeOf(previous);
    } else {
      if (map.size >= this.#limit) this.#evict();
      const tail = this.#head + map.size;
      this.#ring[tail >= this.#limit ? tail - this.#limit : tail] = callId;
      this.#chars += sizeOf(entry) + callId.length;
    }
    map.set(callId, entry);
    while (this.#chars > this.#maxChars && map.size > 1 && this.#ring[this.#head] !== callId) this.#evict();
  }

  #evict(): void {
    const i = this.#head;
    const key = this.#ring[i]!;
    this.#ring[i] = undefined;
    this.#head = i + 1 === this.#limit ? 0 : i + 1;
    const value = this.#map.get(key);
    if (value !== undefined) this.#chars -= sizeOf(value) + key.length;
    this.#map.delete(key);
  }

  /** Resolves when the running entry for `callId` is replaced. */
  wait(entry: LedgerEntry): Promise<void> {
    return new Promise((resolve) => (entry.waiters ??= []).push(resolve));
  }
}

const ledgers = new WeakMap<GateKeeper, CallLedger>();

/** The ledger of one gate (shared by `runToolCalls`, `gateRunTools` and `verifyToolResults`). */
export function ledgerOf(gate: GateKeeper): CallLedger {
  let ledger = ledgers.get(gate);
  if (!ledger) {
    ledger = new CallLedger();
    ledgers.set(gate, ledger);
  }
  return ledger;
}

export function fingerprintOf(name: string, rawArguments: unknown): string {
  return typeof rawArguments === "string" ? `${name}\u0000${rawArguments}` : `${name}\u0001`;
}
