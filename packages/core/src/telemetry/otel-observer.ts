import {
  context,
  createNoopMeter,
  metrics,
  ProxyTracerProvider,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Counter,
  type MeterProvider,
  type Tracer,
  type TracerProvider,
} from "@opentelemetry/api";
import type { Decision } from "../gate/decision.js";
import type { AuditEvent, DecisionObserver, GateKeeper } from "../gate/gate-keeper.js";

/** Instrumentation scope name of AgentGate's spans and metrics. */
export const INSTRUMENTATION_SCOPE = "@agentgate/core";
/** Name of the span recorded for each check. */
export const CHECK_SPAN_NAME = "agentgate.check";
/** Name of the decision counter (attribute `agentgate.decision` holds allow / deny / escalate). */
export const DECISION_COUNTER_NAME = "agentgate.decisions";

export interface OtelOptions {
  /** Default: the global tracer provider, looked up per decision so a later SDK registration is picked up. */
  tracerProvider?: TracerProvider;
  /** Default: the global meter provider, looked up the same way. */
  meterProvider?: MeterProvider;
  /** Put the decision's target (file path, URL, tool name) on spans. Default true. */
  recordTargets?: boolean;
  /** Put the decision's reason on spans. Default true. */
  recordReasons?: boolean;
}

// What "nothing registered" looks like: the API's own no-op singletons.
const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();
const NOOP_METER = createNoopMeter();

/** Gate failures (not policy verdicts) mark the span as an error. */
const ERROR_CODES = new Set<string>(["internal_error", "store_unavailable"]);

/**
 * A decision observer that records each check as an `agentgate.check` span
 * (started at the check's start, ended when the decision is made, parented to
 * the active span) and counts decisions in `agentgate.decisions`. With no
 * OpenTelemetry SDK registered it returns after two cheap look-ups and records
 * nothing.
 *
 * @example
 * const gate = new GateKeeper({ identity, policy, observers: [otelObserver()] });
 */
export function otelObserver(options: OtelOptions = {}): DecisionObserver {
  const recordTargets = options.recordTargets ?? true;
  const recordReasons = options.recordReasons ?? true;
  let tracerFrom: unknown;
  let tracer: Tracer | undefined;
  let meterFrom: MeterProvider | undefined;
  let counter: Counter | undefined;

  return (decision: Decision, event: AuditEvent & { startedAt: number }): void => {
    // Resolve the providers cheaply each time; rebuild instruments only when they change.
    const tp = options.tracerProvider ?? trace.getTracerProvider();
    const active = tp instanceof ProxyTracerProvider ? tp.getDelegate() : tp;
    if (active !== tracerFrom) {
      tracerFrom = active;
      tracer = active === NOOP_TRACER_PROVIDER ? undefined : tp.getTracer(INSTRUMENTATION_SCOPE);
    }
    const mp = options.meterProvider ?? metrics.getMeterProvider();
    if (mp !== meterFrom) {
      meterFrom = mp;
      const meter = mp.getMeter(INSTRUMENTATION_SCOPE);
      counter =
        meter === NOOP_METER
          ? undefined
          : meter.createCounter(DECISION_COUNTER_NAME, {
              description: "AgentGate decisions, by decision type",
              unit: "{decision}",
            });
    }
    if (tracer === undefined && counter === undefined) return;

    counter?.add(1, {
      "agentgate.decision": decision.type,
      "agentgate.action": decision.action,
      "agentgate.policy": decision.policy,
      "agentgate.code": decision.code,
    });
    if (tracer === undefined) return;

    const attributes: Attributes = {
      "agentgate.decision": decision.type,
      "agentgate.action": decision.action,
      "agentgate.policy": decision.policy,
      "agentgate.code": decision.code,
      "agentgate.decision.id": decision.id,
      "gen_ai.agent.id": decision.agentId,
      "gen_ai.agent.name": decision.agentName,
    };
    if (recordTargets && decision.target !== undefined) attributes["agentgate.target"] = decision.target;
    if (recordReasons) attributes["agentgate.reason"] = decision.reason;
    const toolName = event.context?.toolName;
    if (typeof toolName === "string") attributes["gen_ai.tool.name"] = toolName;
    if (decision.callId !== undefined) attributes["gen_ai.tool.call.id"] = decision.callId;
    if (decision.escalationId !== undefined) attributes["agentgate.escalation.id"] = decision.escalationId;
    if (decision.approvedBy !== undefined) attributes["agentgate.approved_by"] = decision.approvedBy;
    if (decision.retryAfterMs !== undefined) attributes["agentgate.retry_after_ms"] = decision.retryAfterMs;
    if (decision.mode !== undefined) attributes["agentgate.mode"] = decision.mode;

    const now = Date.now();
    const startTime = event.startedAt <= now ? event.startedAt : now;
    const span = tracer.startSpan(
      CHECK_SPAN_NAME,
      { kind: SpanKind.INTERNAL, startTime, attributes },
      context.active(),
    );
    if (ERROR_CODES.has(decision.code)) span.setStatus({ code: SpanStatusCode.ERROR, message: decision.reason });
    span.end(now);
  };
}

/**
 * Adds `otelObserver(options)` to a gate. Returns a function that removes it.
 *
 * @example
 * const stop = instrumentGate(gate);
 */
export function instrumentGate(gate: GateKeeper, options?: OtelOptions): () => void {
  return gate.observe(otelObserver(options));
}
