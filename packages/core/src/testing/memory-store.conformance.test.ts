import { MemoryStore } from "../gate/memory-store.js";
import { runStoreConformance } from "./index.js";

runStoreConformance("MemoryStore", () => new MemoryStore());

// Small limits must not change behaviour inside them.
runStoreConformance("MemoryStore (small bounds)", () => new MemoryStore({ maxCalls: 1_000, maxEscalations: 1_000 }));
