import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { AgentIdentity } from "@agentgate/core";
import { afterAll, describe, expect, inject, it } from "vitest";
import { connectStdio, EVERYTHING_SERVER, tempDir, text } from "./test-utils/proxy-harness.js";

const redisUrl = inject("redisUrl");
const conf = tempDir("agentgate-mcp-redis-");
afterAll(() => conf.cleanup());

describe.skipIf(redisUrl === null)("a rate limit shared by two clients through one Redis", () => {
  it("two proxies (one per client) with the same identity and store share max_per_minute", async () => {
    const identity = join(conf.dir, "agent.json");
    writeFileSync(
      identity,
      JSON.stringify((await AgentIdentity.create("shared-agent", { algorithm: "Ed25519" })).export()),
      { mode: 0o600 },
    );
    // A policy name unique to this run: counters are keyed by policy and agent.
    const policy = conf.write(
      "policy.yaml",
      `name: shared-${Date.now()}\nrules:\n  - action: tool_use\n    allowed: true\n    allowed_targets: [echo]\n    max_per_minute: 3\n`,
    );
    const args = [
      "--policy",
      policy,
      "--store",
      redisUrl!,
      "--identity",
      identity,
      "--",
      process.execPath,
      EVERYTHING_SERVER,
      "stdio",
    ];
    const [a, b] = await Promise.all([connectStdio(args, {}), connectStdio(args, {})]);
    try {
      const call = (p: typeof a, n: number) => p.client.callTool({ name: "echo", arguments: { message: `m${n}` } });
      const results = [await call(a, 1), await call(b, 2), await call(a, 3), await call(b, 4), await call(a, 5)];
      expect(results.map((r) => r.isError === true)).toEqual([false, false, false, true, true]);
      expect(text(results[3])).toMatch(
        /^AgentGate denied this call: rule "tool_use": max_per_minute limit of 3 reached; retry in \d+ s$/,
      );
      expect(a.stderr()).toMatch(/agent "shared-agent" id/);
      expect(a.stderr()).not.toContain("generated for this run");
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe("an unreachable store", () => {
  it("fails closed with a reason that says so, without hanging, and logs the problem once", async () => {
    const policy = conf.write(
      "down.yaml",
      "name: down\nrules:\n  - action: tool_use\n    allowed: true\n    max_per_minute: 5\n",
    );
    // Port 1 on loopback: nothing listens there.
    const proxy = await connectStdio([
      "--policy",
      policy,
      "--store",
      "redis://127.0.0.1:1",
      "--",
      process.execPath,
      EVERYTHING_SERVER,
      "stdio",
    ]);
    try {
      for (let i = 0; i < 2; i++) {
        const r = await proxy.client.callTool({ name: "echo", arguments: { message: "x" } });
        expect(r.isError).toBe(true);
        expect(text(r)).toMatch(/^AgentGate denied this call: state store unavailable, failing closed: /);
      }
      expect(proxy.stderr().match(/store: .*ECONNREFUSED/g)).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });
});
