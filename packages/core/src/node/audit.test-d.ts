import { expectTypeOf, test } from "vitest";
import type { AuditSink, Decision, DecisionObserver, GateKeeper } from "../index.js";
import { instrumentGate, otelObserver } from "../telemetry/index.js";
import {
  JsonlAuditSink,
  readAuditLog,
  verifyAuditLog,
  type AuditLogEntry,
  type AuditLogVerification,
} from "./index.js";

test("the JSONL sink is an AuditSink with flush and close", () => {
  expectTypeOf<JsonlAuditSink>().toExtend<AuditSink>();
  expectTypeOf<JsonlAuditSink["write"]>().returns.toEqualTypeOf<Promise<void>>();
  expectTypeOf<JsonlAuditSink["close"]>().returns.toEqualTypeOf<Promise<void>>();
});

test("reader and verifier shapes the CLI relies on", () => {
  expectTypeOf(readAuditLog).returns.resolves.toEqualTypeOf<AuditLogEntry[]>();
  expectTypeOf<AuditLogEntry>().toExtend<{ line: number; seq: number; decision: Decision }>();
  expectTypeOf(verifyAuditLog).returns.resolves.toEqualTypeOf<AuditLogVerification>();
  expectTypeOf<AuditLogVerification>().toExtend<{ ok: boolean; records: number; checkpoints: number }>();
  expectTypeOf<AuditLogVerification["firstBadLine"]>().toEqualTypeOf<number | undefined>();
  expectTypeOf<AuditLogVerification["problem"]>().toEqualTypeOf<string | undefined>();
});

test("telemetry helpers", () => {
  expectTypeOf(otelObserver).returns.toEqualTypeOf<DecisionObserver>();
  expectTypeOf(instrumentGate).parameter(0).toEqualTypeOf<GateKeeper>();
  expectTypeOf(instrumentGate).returns.toEqualTypeOf<() => void>();
});
