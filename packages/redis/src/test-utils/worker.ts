// A separate Node process sharing one Redis: what a second worker of a real
// deployment is. It imports the built packages (`ENTRY` is this package's
// build, `@agentgate/core` resolves to core's dist) and answers JSON-line
// commands on stdin with JSON lines on stdout. Run by `workers.ts`.
import { createInterface } from "node:readline";
import { AgentIdentity, EscalationError, GateKeeper, PermissionPolicy, type PolicyConfig } from "@agentgate/core";
import { Cluster, Redis } from "ioredis";
import type * as Entry from "../index.js";

const env = process.env;
const { RedisStore } = (await import(env.ENTRY!)) as typeof Entry;
// CLUSTER_NODES: JSON `[{ host, port }]` of a Redis Cluster's primaries.
const client = env.CLUSTER_NODES
  ? new Cluster(JSON.parse(env.CLUSTER_NODES) as { host: string; port: number }[], { scaleReads: "master" })
  : new Redis(env.AGENTGATE_REDIS_URL!);
const store = new RedisStore({ client, prefix: env.PREFIX!, commandTimeoutMs: 2_000 });
const gates = new Map<string, GateKeeper>();
await client.ping();

/** Every command but `setup` names the gate (set up earlier) it runs on. */
type Command = { id: number; gate: string } & (
  | { op: "setup"; identity: string; policy: PolicyConfig; approver?: { name: string; delayMs: number } }
  | { op: "burst"; n: number; action: string; target?: string }
  | { op: "check"; action: string; options?: object }
  | { op: "toolCall"; call: Parameters<GateKeeper["checkToolCall"]>[0] }
  | { op: "resolve"; escalationId: string; resolution: { approved: boolean; approvedBy?: string } }
  | { op: "pending" }
  | { op: "decisions" }
);

async function run(cmd: Command): Promise<unknown> {
  if (cmd.op === "setup") {
    const identity = await AgentIdentity.import(cmd.identity);
    const approver = cmd.approver;
    // An inline approval handler that approves after a delay, as a human on a chat channel would.
    const approvalHandler = approver
      ? () =>
          new Promise<{ approved: boolean; approvedBy: string }>((r) =>
            setTimeout(() => r({ approved: true, approvedBy: approver.name }), approver.delayMs),
          )
      : undefined;
    gates.set(
      cmd.gate,
      new GateKeeper({
        identity,
        policy: new PermissionPolicy(cmd.policy),
        store,
        ...(approvalHandler ? { approvalHandler } : {}),
      }),
    );
    return null;
  }
  const gate = gates.get(cmd.gate);
  if (!gate) throw new Error(`no gate ${cmd.gate}`);
  switch (cmd.op) {
    case "burst": {
      const all = await Promise.all(Array.from({ length: cmd.n }, () => gate.check(cmd.action, cmd.target)));
      return all.map((d) => ({ type: d.type, code: d.code }));
    }
    case "check":
      return gate.check(cmd.action, cmd.options as never);
    case "toolCall":
      return gate.checkToolCall(cmd.call);
    case "resolve":
      try {
        return await gate.resolveEscalation(cmd.escalationId, cmd.resolution);
      } catch (error) {
        if (EscalationError.isInstance(error)) return { error: error.code };
        throw error;
      }
    case "pending":
      return gate.pendingEscalations();
    case "decisions":
      return gate.decisions;
  }
}

const reply = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
reply({ ready: true, pid: process.pid });
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const cmd = JSON.parse(line) as Command;
  run(cmd).then(
    (result) => reply({ id: cmd.id, result }),
    (error: unknown) => reply({ id: cmd.id, error: String(error) }),
  );
}
store.close();
await client.quit();
