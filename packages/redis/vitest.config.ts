import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    typecheck: { enabled: true, include: ["src/**/*.test-d.ts"], tsconfig: "./tsconfig.json" },
    globalSetup: ["./src/test-utils/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
