// A separate Node process sharing one Redis: what a second worker of a real
// deployment is. It imports the built packages (`ENTRY` is this package's
// build, `@agentgate/core` resolves to core's dist) and answers JSON-line
// commands on stdin with JSON lines on stdout. Run by `workers.ts`.
import { createInterface } from "node:readline";
import { AgentIdentity, EscalationError, GateKeeper, PermissionPolicy, type PolicyConfig } from "@agentgate/core";
import { Redis } from "ioredis";
import type * as Entry from "../index.js";

const env = process.env;
const { RedisStore } = (await import(env.ENTRY!)) as typeof Entry;
const client = new Redis(env.AGENTGATE_REDIS_URL!);
const store = new RedisStore({ client, prefix: env.PREFIX!, commandTimeoutMs: 2_000 });
const gate = new GateKeeper({
  identity: await AgentIdentity.import(env.IDENTITY!),
  policy: new PermissionPolicy(JSON.parse(env.POLICY!) as PolicyConfig),
  store,
});
await client.ping();

type Command =
  | { id: number; op: "burst"; n: number; action: string; target?: string }
  | { id: number; op: "check"; action: string; options?: object }
  | { id: number; op: "toolCall"; call: Parameters<GateKeeper["checkToolCall"]>[0] }
  | { id: number; op: "resolve"; escalationId: string; resolution: { approved: boolean; approvedBy?: string } }
  | { id: number; op: "pending" };

async function run(cmd: Command): Promise<unknown> {
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
