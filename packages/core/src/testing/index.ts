// Test helpers for AgentGate stores and adapters. Imports `vitest` (an optional peer of @agentgate/core).
export { runStoreConformance, type StoreConformanceOptions } from "./store-conformance.js";
export {
  runAdapterConformance,
  type AdapterDriver,
  type AdapterScenario,
  type AdapterTurn,
  type ConformanceAnswer,
  type ConformanceCall,
  type ConformanceInput,
  type ConformanceTamper,
  type ConformanceTools,
  type ResumeArgs,
  type RunArgs,
} from "./adapter-conformance.js";
