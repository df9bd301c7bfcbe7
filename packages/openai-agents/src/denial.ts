import type { DecisionCode, DeniedToolResult } from "@agentgate/core";

export type { ToolDenial } from "@agentgate/core";

/**
 * @deprecated Denials carry core's `DecisionCode` (`invalid_input` for unreadable arguments,
 * `internal_error` for a failure, `approval_denied` for a rejected approval).
 */
export type LocalDenialCode = DecisionCode;

/**
 * The JSON the model reads in place of a result when a gated call was refused.
 * @deprecated Use `DeniedToolResult` from `@agentgate/core` (the same shape; `isDeniedToolResult` tells it apart).
 */
export type DeniedToolOutput = DeniedToolResult;
