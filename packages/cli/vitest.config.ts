import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    // Tests run the built binary as a child process; build it when stale.
    globalSetup: ["src/test-utils/global-setup.ts"],
    typecheck: { enabled: true, include: ["src/**/*.test-d.ts"], tsconfig: "./tsconfig.json" },
    testTimeout: 30_000,
  },
});
