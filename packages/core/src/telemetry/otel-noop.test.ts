import { createNoopMeter, metrics, ProxyTracerProvider, trace } from "@opentelemetry/api";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { describe, expect, it, vi } from "vitest";
import { GateKeeper } from "../gate/gate-keeper.js";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import { DECISION_COUNTER_NAME, instrumentGate } from "./index.js";

class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

// This file runs in its own worker: nothing is registered with the OpenTelemetry API until the test does it.
describe("OpenTelemetry without an SDK", () => {
  it("does no per-decision work while nothing is registered, and picks up an SDK registered later", async () => {
    const noopTracerProto = Object.getPrototypeOf(new ProxyTracerProvider().getDelegate().getTracer("probe"));
    const startSpan = vi.spyOn(noopTracerProto, "startSpan");
    const proxyGetTracer = vi.spyOn(ProxyTracerProvider.prototype, "getTracer");
    const getMeter = vi.spyOn(Object.getPrototypeOf(metrics.getMeterProvider()), "getMeter");
    const createCounter = vi.spyOn(Object.getPrototypeOf(createNoopMeter()), "createCounter");

    const identity = await AgentIdentity.create("bot");
    const policy = new PermissionPolicy({ name: "p", rules: [{ action: "tool_use", allowed: true }] });
    const gate = new GateKeeper({ identity, policy });
    instrumentGate(gate);
    for (let i = 0; i < 50; i++) await gate.check("tool_use", { target: `t${i}` });
    expect(startSpan).not.toHaveBeenCalled();
    expect(proxyGetTracer).not.toHaveBeenCalled();
    expect(createCounter).not.toHaveBeenCalled();
    // The meter provider is asked once, to find out it is the no-op one; never again per decision.
    expect(getMeter).toHaveBeenCalledTimes(1);

    const exporter = new InMemorySpanExporter();
    const reader = new TestReader();
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
    await gate.check("tool_use", { target: "after" });
    expect(exporter.getFinishedSpans().map((s) => s.attributes["agentgate.target"])).toEqual(["after"]);
    const { resourceMetrics } = await reader.collect();
    const counter = resourceMetrics.scopeMetrics
      .flatMap((s) => s.metrics)
      .find((m) => m.descriptor.name === DECISION_COUNTER_NAME);
    expect(counter?.dataPoints.map((p) => p.value)).toEqual([1]);
  });
});
