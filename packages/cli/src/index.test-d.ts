import type { Decision } from "@agentgate/core";
import type { AuditLogEntry, AuditLogVerification } from "@agentgate/core/node";
import { expectTypeOf, test } from "vitest";
import {
  explainDecision,
  formatVerifyResult,
  renderAuditTable,
  replayDecisions,
  run,
  type DecisionExplanation,
  type ReplayResult,
} from "./index.js";

test("the pieces the demo prints with", () => {
  expectTypeOf(renderAuditTable).parameter(0).toEqualTypeOf<readonly (AuditLogEntry | Decision)[]>();
  expectTypeOf(renderAuditTable([] as Decision[], { color: true })).toBeString();
  expectTypeOf(formatVerifyResult).parameter(0).toEqualTypeOf<AuditLogVerification>();
  expectTypeOf(explainDecision).returns.resolves.toEqualTypeOf<DecisionExplanation>();
  expectTypeOf(replayDecisions).returns.toEqualTypeOf<ReplayResult>();
  expectTypeOf(run).returns.resolves.toBeNumber();
  // @ts-expect-error: options are an object
  renderAuditTable([], true);
});
