// An agent in its own process: a gate on the shared Redis that waits for a human
// (waitForApproval), with grants. Each line on stdin is a tool name to call;
// each decision goes to stdout as one JSON line.
import { createInterface } from "node:readline";
import { AgentIdentity, GateKeeper, PermissionPolicy } from "@agentgate/core";
import { RedisStore } from "@agentgate/redis";
import { Redis } from "ioredis";
import { waitForApproval } from "../../dist/index.js";

const client = new Redis(process.env.REDIS_URL);
const store = new RedisStore({ client, prefix: process.env.PREFIX });
const identity = await AgentIdentity.create(process.env.AGENT_NAME ?? "deploy-bot");
const policy = new PermissionPolicy({
  name: "demo",
  rules: [
    { action: "tool_use", allowed: true, allowedTargets: ["search"], escalateTargets: ["*"], deniedTargets: ["rm_rf"] },
  ],
});
const gate = new GateKeeper({
  identity,
  policy,
  store,
  grants: store,
  approvalHandler: waitForApproval({ store, timeoutMs: Number(process.env.TIMEOUT_MS ?? 30000) }),
});
process.stdout.write(`${JSON.stringify({ ready: true, agentId: identity.id })}\n`);
let n = 0;
for await (const line of createInterface({ input: process.stdin })) {
  if (!line) continue;
  const [toolName, ...rest] = line.split(" ");
  const d = await gate.checkToolCall({ toolName, input: { note: rest.join(" ") }, callId: `c${++n}` });
  process.stdout.write(`${JSON.stringify(d)}\n`);
}
store.close();
await client.quit();
