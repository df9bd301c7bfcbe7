import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    globalSetup: ["./src/test-utils/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Browser and child-process tests share a 2-core machine: one file at a time.
    fileParallelism: false,
  },
});
