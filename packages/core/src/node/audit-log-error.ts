import { AgentGateError } from "../errors/agent-gate-error.js";

/** A problem with an audit log file: cannot open, cannot continue its chain, cannot write. */
export class AuditLogError extends AgentGateError {
  /** The audit log's path. */
  readonly path: string;

  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super("AGENTGATE_AUDIT_LOG", message, options);
    this.name = "AuditLogError";
    this.path = path;
  }

  static override isInstance(error: unknown): error is AuditLogError {
    return AgentGateError.isInstance(error) && error.code === "AGENTGATE_AUDIT_LOG";
  }
}
