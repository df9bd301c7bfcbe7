import { AgentIdentity, GateKeeper, PermissionPolicy, settleStoredEscalation, type Grant } from "@agentgate/core";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { RedisStore } from "./index.js";
import { deleteKeys } from "./test-utils/keys.js";
import { redisUrl, testPrefix } from "./test-utils/redis-env.js";

describe.skipIf(redisUrl === null)("RedisStore grants and settle events", () => {
  const prefix = testPrefix("grants");
  const clients: Redis[] = [];
  const stores: RedisStore[] = [];
  const open = () => {
    const client = new Redis(redisUrl!);
    clients.push(client);
    const store = new RedisStore({ client, prefix });
    stores.push(store);
    return store;
  };
  afterAll(async () => {
    for (const s of stores) s.close();
    const admin = new Redis(redisUrl!);
    await deleteKeys(admin, prefix);
    await admin.quit();
    await Promise.all(clients.map((c) => c.quit()));
  });

  const policy = new PermissionPolicy({
    name: "p",
    rules: [{ action: "tool_use", allowed: true, escalateTargets: ["deploy"], deniedTargets: ["rm"] }],
  });

  it("a grant made through one connection allows another's matching escalation, counts uses, revokes", async () => {
    const identity = await AgentIdentity.create("deploy-bot");
    const a = open();
    const b = open();
    const gate = new GateKeeper({ identity, policy, store: b, grants: b });
    const now = Date.now();
    const grant: Grant = {
      id: "g1",
      agentId: identity.id,
      action: "tool_use",
      target: "deploy",
      tool: "deploy",
      approvedBy: "alice",
      createdAt: now,
      expiresAt: now + 60_000,
      usesLeft: 2,
    };
    await a.createGrant(grant);
    expect((await b.listGrants(now)).map((g) => g.id)).toEqual(["g1"]);
    const d = await gate.checkToolCall({ toolName: "deploy", input: {}, callId: "x" });
    expect(d).toMatchObject({ type: "allow", code: "granted", grantId: "g1", approvedBy: "alice" });
    expect(await gate.checkToolCall({ toolName: "deploy", input: {}, callId: "x", execute: true })).toMatchObject({
      code: "granted",
    });
    expect((await a.listGrants(now))[0]?.usesLeft).toBe(1);
    expect((await gate.checkToolCall({ toolName: "rm", input: {} })).type).toBe("deny");
    expect((await gate.checkToolCall({ toolName: "deploy", input: {} })).code).toBe("granted");
    expect((await gate.checkToolCall({ toolName: "deploy", input: {} })).type).toBe("escalate");
    await a.createGrant({ ...grant, id: "g2", usesLeft: undefined });
    expect((await a.revokeGrant("g2"))?.id).toBe("g2");
    expect(await a.revokeGrant("g2")).toBeUndefined();
    expect((await gate.checkToolCall({ toolName: "deploy", input: {} })).type).toBe("escalate");
    await a.createGrant({ ...grant, id: "g3", expiresAt: now - 1 });
    expect((await gate.checkToolCall({ toolName: "deploy", input: {} })).type).toBe("escalate");
  });

  it("a settle on one connection is heard by a listener on another (pub/sub)", async () => {
    const identity = await AgentIdentity.create("bot");
    const a = open();
    const b = open();
    const gate = new GateKeeper({ identity, policy, store: a });
    let heard!: (id: string) => void;
    const settled = new Promise<string>((resolve) => (heard = resolve));
    // Resolves once the subscription is live: a publish before that is not heard.
    const stop = await b.onEscalationSettled((id) => heard(id));
    const d = await gate.checkToolCall({ toolName: "deploy", input: {} });
    const s = await settleStoredEscalation(b, d.escalationId!, { approved: true, approvedBy: "alice" });
    expect(s.ok).toBe(true);
    expect(await settled).toBe(d.escalationId);
    stop();
  });
});
