import { appendFile } from "node:fs/promises";

/** One line of the approvals audit (JSON Lines). */
export interface ApprovalAuditRecord {
  type: "answer" | "grant" | "revoke" | "sign_in" | "sign_in_failed";
  at: string;
  /** The approver's id (the name in approvers.yaml). */
  approver: string;
  /** How they signed in. */
  via?: "password" | "token";
  escalationId?: string;
  grantId?: string;
  /** approve / deny, for answers. */
  answer?: "approve" | "deny";
  reason?: string;
  agentId?: string;
  agentName?: string;
  action?: string;
  target?: string;
  /** The settled or granted decision, as the gate will see it. */
  decision?: unknown;
  expiresAt?: string;
}

/**
 * Appends records in order (one write chain), never throwing into a request:
 * a failed write is reported through `onError`.
 */
export class ApprovalAudit {
  readonly file: string | undefined;
  readonly #onError: (error: unknown) => void;
  #chain: Promise<void> = Promise.resolve();
  readonly recent: ApprovalAuditRecord[] = [];
  readonly #keep: number;

  constructor(
    file: string | undefined,
    onError: (error: unknown) => void = (e) => console.warn(`[agentgate approvals] audit write failed: ${String(e)}`),
    keep = 500,
  ) {
    this.file = file;
    this.#onError = onError;
    this.#keep = keep;
  }

  write(record: ApprovalAuditRecord): Promise<void> {
    if (record.type !== "sign_in_failed" && record.type !== "sign_in") {
      this.recent.unshift(record);
      if (this.recent.length > this.#keep) this.recent.length = this.#keep;
    }
    const file = this.file;
    if (file === undefined) return Promise.resolve();
    const line = `${JSON.stringify(record)}\n`;
    this.#chain = this.#chain
      .then(() => appendFile(file, line, { encoding: "utf8", mode: 0o600 }))
      .catch(this.#onError);
    return this.#chain;
  }

  flush(): Promise<void> {
    return this.#chain;
  }
}
