// Test helpers for AgentGate stores. Imports `vitest` (an optional peer of @agentgate/core).
export { runStoreConformance, type StoreConformanceOptions } from "./store-conformance.js";
