/** A problem with an audit log file: cannot open, cannot continue its chain, cannot write. */
export class AuditLogError extends Error {
  readonly code = "AGENTGATE_AUDIT_LOG";
  /** The audit log's path. */
  readonly path: string;

  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AuditLogError";
    this.path = path;
  }
}
