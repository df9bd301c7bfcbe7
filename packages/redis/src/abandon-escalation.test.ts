import { AgentIdentity, EscalationError, GateKeeper, PermissionPolicy } from "@agentgate/core";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisStore } from "./index.js";
import { KeySpace } from "./keys.js";
import { deleteKeys } from "./test-utils/keys.js";
import { redisUrl, testPrefix } from "./test-utils/redis-env.js";

const identity = await AgentIdentity.create("abandon-bot");

// Real Redis errors, not a stub: a key of the wrong type makes a script fail with WRONGTYPE.
describe.skipIf(redisUrl === null)("an escalation Redis could not record (abandonEscalation)", () => {
  const prefix = testPrefix("abandon");
  const keys = new KeySpace(prefix);
  let admin: Redis;
  const clients: Redis[] = [];
  beforeAll(() => {
    admin = new Redis(redisUrl!);
  });
  afterAll(async () => {
    await deleteKeys(admin, prefix);
    await admin.quit();
    for (const c of clients) await c.quit();
  });

  /** Two gates on two connections, as two processes; the policy escalates and allows one use. */
  function gates() {
    const policy = new PermissionPolicy({
      name: `p-${globalThis.crypto.randomUUID()}`,
      rules: [{ action: "tool_use", allowed: true, requireApproval: true, denyAfter: 1 }],
    });
    const [a, b] = [new Redis(redisUrl!), new Redis(redisUrl!)];
    clients.push(a, b);
    return {
      raiser: new GateKeeper({ identity, policy, store: new RedisStore({ client: a, prefix }) }),
      other: new GateKeeper({ identity, policy, store: new RedisStore({ client: b, prefix }) }),
      index: keys.agentPending({ policy: policy.name, agentId: identity.id }),
    };
  }

  it("the record's script fails: the call ends as DENY store_unavailable in every process, its use given back", async () => {
    const { raiser, other, index } = gates();
    await admin.set(index, "not a sorted set");
    const call = { toolName: "deploy", input: { env: "prod" }, callId: "c1" };
    const first = await raiser.checkToolCall(call);
    expect(first).toMatchObject({ type: "deny", code: "store_unavailable", callId: "c1" });
    expect(first.reason).toMatch(/cannot record the escalation.*WRONGTYPE/);
    for (const g of [raiser, other]) expect(await g.checkToolCall({ ...call, execute: true })).toEqual(first);
    expect(other.decisions).toEqual([]);
    await admin.del(index);
    // deny_after 1: the failed escalation's use came back, so the next call escalates.
    expect(await other.checkToolCall({ ...call, callId: "c2" })).toMatchObject({ type: "escalate" });
    expect(await other.checkToolCall({ ...call, callId: "c3" })).toMatchObject({ code: "deny_after" });
  });

  it("the record is written but not indexed: it is settled as the DENY, off the agent's pending list", async () => {
    const { raiser, other } = gates();
    await admin.set(keys.pending(), "not a sorted set");
    try {
      const call = { toolName: "deploy", input: { env: "prod" }, callId: "c1" };
      const first = await raiser.checkToolCall(call);
      expect(first).toMatchObject({ type: "deny", code: "store_unavailable" });
      expect(await other.pendingEscalations()).toEqual([]);
      expect(await other.checkToolCall(call)).toEqual(first);
      const [id] = await admin.keys(`${keys.recordPrefix({ policy: raiser.policy.name, agentId: identity.id })}*`);
      const escalationId = decodeURIComponent(id!.slice(id!.lastIndexOf(":") + 1));
      await expect(other.resolveEscalation(escalationId, { approved: true, approvedBy: "ops" })).rejects.toSatisfy(
        (e: unknown) => EscalationError.isInstance(e) && e.code === "AGENTGATE_ESCALATION_SETTLED",
      );
    } finally {
      await admin.del(keys.pending());
    }
  });
});
