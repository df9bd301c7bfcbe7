import { defineConfig } from "vitest/config";

// Examples run real agents in child processes: allow for a loaded CI machine.
export default defineConfig({ test: { include: ["src/**/*.test.ts"], testTimeout: 60_000 } });
