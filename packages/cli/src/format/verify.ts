import type { AuditLogVerification } from "@agentgate/core/node";
import { renderFields } from "./explanation.js";
import { escapeControl } from "./escape.js";
import { createStyle } from "./style.js";

const SIGNATURES: Record<AuditLogVerification["signatures"], string> = {
  "trusted-key": "checked against the trusted public key",
  "embedded-key":
    "checked against the key written in the log (proves consistency, not who signed; pass --public-key to pin it)",
  none: "none: the log has no signed checkpoints, so truncation and re-chaining cannot be ruled out",
};

/**
 * The human-readable verdict of `verifyAuditLog`: OK or FAIL with the first
 * bad line and what is wrong, then what was checked.
 */
export function formatVerifyResult(
  result: AuditLogVerification,
  options: { file?: string; color?: boolean; allowUnsignedTail?: boolean } = {},
): string {
  const s = createStyle(options.color ?? false);
  const file = options.file ? `${escapeControl(options.file)}: ` : "";
  const counts = `${result.records} record${result.records === 1 ? "" : "s"} (${result.decisions} decision${result.decisions === 1 ? "" : "s"}, ${result.checkpoints} signed checkpoint${result.checkpoints === 1 ? "" : "s"})`;
  const head = result.ok
    ? `${s.bold(s.green("OK"))}    ${file}${counts} verified`
    : `${s.bold(s.red("FAIL"))}  ${file}${escapeControl(result.problem ?? "verification failed")}`;
  const cp = result.lastCheckpoint;
  const fields: [string, string | undefined][] = [
    ["first bad line", result.ok ? undefined : result.firstBadLine !== undefined ? String(result.firstBadLine) : "-"],
    ["verified", result.ok ? undefined : `${counts} before the problem`],
    ["signatures", SIGNATURES[result.signatures]],
    [
      "head file",
      result.headChecked
        ? "compared: truncation before the last checkpoint would show"
        : result.ok
          ? "none: truncation of the tail cannot be detected"
          : undefined,
    ],
    [
      "last checkpoint",
      cp
        ? `seq ${cp.seq} at ${cp.at}${cp.line !== undefined ? ` (line ${cp.line})` : " (in the head file only)"}`
        : undefined,
    ],
    [
      "recoveries",
      result.recoveries > 0
        ? `${result.recoveries} recovery record${result.recoveries === 1 ? "" : "s"} after a crash (torn lines cut off, unsigned records named)`
        : undefined,
    ],
    [
      "unsigned",
      result.unsigned > 0
        ? `${result.unsigned} record${result.unsigned === 1 ? "" : "s"} not proven by any signature (written after the last signed checkpoint, or before a crash)` +
          (result.ok && result.signatures === "trusted-key"
            ? options.allowUnsignedTail
              ? " (accepted by --allow-unsigned-tail)"
              : ""
            : "")
        : undefined,
    ],
    [
      "dropped",
      result.dropped > 0
        ? `${result.dropped} decision${result.dropped === 1 ? "" : "s"} not written: the writer's buffer was full (counted in recovery records)`
        : undefined,
    ],
    [
      "torn tail",
      result.tornTail
        ? `line ${result.tornTail.line} (${result.tornTail.bytes} bytes) is incomplete: a crash, or a writer still running`
        : undefined,
    ],
  ];
  return [head, ...renderFields(fields, s)].join("\n");
}
