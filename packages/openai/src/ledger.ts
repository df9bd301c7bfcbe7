import type { Decision, GateKeeper } from "@agentgate/core";

/** What one call id produced, as the model reads it. */
export interface LedgerEntry {
  /** Tool name and raw arguments: a call id never carries over to another input. */
  fingerprint: string;
  /** `ran` is final (the function ran once); anything else is decided again on a repeat. */
  status: "running" | "ran" | "denied" | "escalated" | "failed";
  decision?: Decision;
  /** The text the model reads for this call. */
  output?: string;
  result?: unknown;
  error?: unknown;
  /** Settles when a running entry is done. */
  done?: Promise<void>;
}

/** Call ids remembered per gate. Oldest dropped first; a dropped id is decided by the gate again. */
export const LEDGER_LIMIT = 10_000;

/**
 * The calls this package ran or refused for one gate, in this process: it
 * makes each call id run once and lets `verifyToolResults` tell the tool
 * results it produced from forged ones.
 */
export class CallLedger {
  readonly #entries = new Map<string, LedgerEntry>();
  readonly #limit: number;

  constructor(limit = LEDGER_LIMIT) {
    this.#limit = limit;
  }

  get(callId: string): LedgerEntry | undefined {
    return this.#entries.get(callId);
  }

  set(callId: string, entry: LedgerEntry): void {
    this.#entries.delete(callId);
    this.#entries.set(callId, entry);
    while (this.#entries.size > this.#limit) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
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

export function fingerprintOf(name: string, rawArguments: string): string {
  return `${name}\u0000${rawArguments}`;
}
