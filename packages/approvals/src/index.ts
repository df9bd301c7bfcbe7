export { createApprovalServer, type ApprovalServer, type ApprovalServerOptions } from "./approval-server.js";
export { ApprovalService, settledBy, type Answer, type AnswerResult } from "./approval-service.js";
export {
  addApprover,
  addApproverToken,
  ApproversFile,
  isApproverName,
  type Approver,
  type ApproverEntry,
} from "./approvers-file.js";
export { ApprovalAudit, type ApprovalAuditRecord } from "./audit-log.js";
export { hashPassword, hashToken, newToken, verifyPassword } from "./passwords.js";
export {
  openStore,
  startApprovalServer,
  type RunningApprovalServer,
  type StartApprovalServerOptions,
} from "./serve.js";
export { ApprovalTimedOut } from "./approval-timed-out.js";
export { waitForApproval, type WaitForApprovalOptions } from "./wait-for-approval.js";
export {
  SIGNATURE_HEADER,
  signWebhook,
  slackPayload,
  verifyWebhook,
  Webhooks,
  type WebhookEvent,
  type WebhookOptions,
} from "./webhooks.js";
