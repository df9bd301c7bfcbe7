import { metrics, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { MeterProvider, MetricReader, type SumMetricData } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { GateKeeper } from "../gate/gate-keeper.js";
import { MemoryStore } from "../gate/memory-store.js";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import { CHECK_SPAN_NAME, DECISION_COUNTER_NAME, instrumentGate, otelObserver } from "./index.js";

/** Collects on demand, as a test needs. */
class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const reader = new TestReader();
const meterProvider = new MeterProvider({ readers: [reader] });
afterAll(async () => {
  await tracerProvider.shutdown();
  await meterProvider.shutdown();
});

const identity = await AgentIdentity.create("research-bot");
const policy = new PermissionPolicy({
  name: "research-policy",
  rules: [
    { action: "tool_use", allowed: true, allowedTargets: ["search", "deploy"], escalateTargets: ["deploy"] },
    { action: "llm_call", allowed: true, maxPerMinute: 100 },
  ],
});

async function decisionCounts(): Promise<Record<string, number>> {
  const { resourceMetrics } = await reader.collect();
  const metric = resourceMetrics.scopeMetrics
    .flatMap((s) => s.metrics)
    .find((m) => m.descriptor.name === DECISION_COUNTER_NAME) as SumMetricData | undefined;
  const out: Record<string, number> = {};
  for (const p of metric?.dataPoints ?? []) {
    const key = `${p.attributes["agentgate.decision"]}:${p.attributes["agentgate.code"]}`;
    out[key] = (out[key] ?? 0) + p.value;
  }
  return out;
}

beforeEach(() => exporter.reset());

describe("OpenTelemetry", () => {
  it("records each check as an agentgate.check span with the decision's attributes, started at the check's start", async () => {
    const startedAt = Date.now() - 1500;
    const gate = new GateKeeper({ identity, policy, clock: () => startedAt });
    instrumentGate(gate, { tracerProvider, meterProvider });
    const decision = await gate.checkToolCall({ toolName: "search", input: { q: "otel" }, callId: "call_1" });
    const [span, ...rest] = exporter.getFinishedSpans();
    expect(rest).toEqual([]);
    expect(span!.name).toBe(CHECK_SPAN_NAME);
    expect(span!.kind).toBe(SpanKind.INTERNAL);
    expect(span!.instrumentationScope.name).toBe("@agentgate/core");
    expect(span!.attributes).toEqual({
      "agentgate.decision": "allow",
      "agentgate.action": "tool_use",
      "agentgate.target": "search",
      "agentgate.policy": "research-policy",
      "agentgate.code": decision.code,
      "agentgate.decision.id": decision.id,
      "agentgate.reason": decision.reason,
      "gen_ai.tool.name": "search",
      "gen_ai.tool.call.id": "call_1",
      "gen_ai.agent.id": identity.id,
      "gen_ai.agent.name": "research-bot",
    });
    const ms = (t: [number, number]) => t[0] * 1000 + t[1] / 1e6;
    expect(Math.round(ms(span!.startTime))).toBe(startedAt);
    expect(ms(span!.endTime)).toBeGreaterThanOrEqual(ms(span!.startTime));
    expect(span!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("counts decisions by type, and spans carry escalation and rate-limit details", async () => {
    const before = await decisionCounts();
    const gate = new GateKeeper({
      identity,
      policy,
      observers: [otelObserver({ tracerProvider, meterProvider, recordTargets: false, recordReasons: false })],
    });
    await gate.check("tool_use", { target: "search" });
    await gate.check("tool_use", { target: "search" });
    await gate.check("shell");
    const escalated = await gate.check("tool_use", { target: "deploy" });
    await gate.resolveEscalation(escalated.escalationId!, { approved: true, approvedBy: "alice" });
    const after = await decisionCounts();
    const delta = Object.fromEntries(
      Object.entries(after)
        .map(([k, v]) => [k, v - (before[k] ?? 0)])
        .filter(([, v]) => v !== 0),
    );
    expect(delta).toEqual({
      "allow:allowed": 2,
      "deny:no_rule": 1,
      "escalate:escalate_target": 1,
      "allow:approved": 1,
    });
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.attributes["agentgate.decision"])).toEqual([
      "allow",
      "allow",
      "deny",
      "escalate",
      "allow",
    ]);
    expect(spans[3]!.attributes["agentgate.escalation.id"]).toBe(escalated.escalationId);
    expect(spans[4]!.attributes["agentgate.approved_by"]).toBe("alice");
    // Targets and reasons can stay out of telemetry.
    expect(spans.some((s) => "agentgate.target" in s.attributes || "agentgate.reason" in s.attributes)).toBe(false);
  });

  it("marks gate failures (a state store that is down) as span errors", async () => {
    class DownStore extends MemoryStore {
      override consume(): never {
        throw new Error("connection refused");
      }
    }
    const gate = new GateKeeper({ identity, policy, store: new DownStore() });
    instrumentGate(gate, { tracerProvider, meterProvider });
    const d = await gate.check("llm_call");
    expect(d).toMatchObject({ type: "deny", code: "store_unavailable" });
    const [span] = exporter.getFinishedSpans();
    expect(span!.status).toEqual({ code: SpanStatusCode.ERROR, message: d.reason });
    expect(span!.attributes["agentgate.code"]).toBe("store_unavailable");
  });

  it("stops recording once removed", async () => {
    const gate = new GateKeeper({ identity, policy });
    const stop = instrumentGate(gate, { tracerProvider, meterProvider });
    await gate.check("shell");
    stop();
    await gate.check("shell");
    expect(exporter.getFinishedSpans()).toHaveLength(1);
  });

  it("uses the globally registered SDK by default", async () => {
    expect(trace.setGlobalTracerProvider(tracerProvider)).toBe(true);
    expect(metrics.setGlobalMeterProvider(meterProvider)).toBe(true);
    try {
      const before = (await decisionCounts())["deny:no_rule"] ?? 0;
      const gate = new GateKeeper({ identity, policy });
      instrumentGate(gate);
      await gate.check("shell");
      expect(exporter.getFinishedSpans().map((s) => s.attributes["agentgate.decision"])).toEqual(["deny"]);
      expect((await decisionCounts())["deny:no_rule"]).toBe(before + 1);
    } finally {
      trace.disable();
      metrics.disable();
    }
  });
});
