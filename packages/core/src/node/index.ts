// Node-only helpers: the durable, tamper-evident JSONL audit log.
export { AuditLogError } from "./audit-log-error.js";
export {
  CHECKPOINT_DOMAIN,
  GENESIS_HASH,
  type AuditRecord,
  type CheckpointRecord,
  type DecisionRecord,
  type RecoveryRecord,
  type SealRecord,
} from "./audit-record.js";
export { AUDIT_FORMAT_VERSION } from "./audit-chain.js";
export {
  JsonlAuditSink,
  type AuditCheckpoint,
  type AuditLogOpenState,
  type JsonlAuditSinkOptions,
} from "./jsonl-audit-sink.js";
export { readAuditLog, type AuditLogEntry } from "./read-audit-log.js";
export { ArgsRedactor, REDACTED, type RedactOptions } from "./redact.js";
export { verifyAuditLog, type AuditLogVerification, type VerifyAuditLogOptions } from "./verify-audit-log.js";
