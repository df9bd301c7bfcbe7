import { defineConfig } from "vitest/config";

// The whole adapter suite against the oldest SDK release the peer range allows
// (0.16.0, the first with `@openai/agents-core/testing`; installed as the aliased devDependency `@openai/agents-core-oldest`).
export default defineConfig({
  resolve: {
    alias: [{ find: /^@openai\/agents-core(\/.*)?$/, replacement: "@openai/agents-core-oldest$1" }],
  },
  test: {
    include: ["src/**/*.test.ts"],
    // The README example runs as a plain Node program against the installed (newest) SDK.
    exclude: ["src/readme.test.ts"],
    testTimeout: 30_000,
  },
});
