// OpenTelemetry for AgentGate (`@agentgate/core/otel`): needs `@opentelemetry/api`.
export {
  CHECK_SPAN_NAME,
  DECISION_COUNTER_NAME,
  INSTRUMENTATION_SCOPE,
  instrumentGate,
  otelObserver,
  type OtelOptions,
} from "./otel-observer.js";
