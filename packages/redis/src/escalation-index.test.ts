import { AgentIdentity, GateKeeper, PermissionPolicy, type EscalationRecord } from "@agentgate/core";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisStore } from "./index.js";
import { deleteKeys } from "./test-utils/keys.js";
import { redisServerBin, testPrefix } from "./test-utils/redis-env.js";
import { startRedisServer, type RedisServer } from "./test-utils/redis-server.js";

const FLOOD = 50_000;

// A Redis of its own: commands are counted with MONITOR, which on the shared server would
// also see (and, under a flood, trip ioredis on) every other test file's traffic.
describe.skipIf(!redisServerBin)("escalations indexed per agent", () => {
  const prefix = testPrefix("index");
  let server: RedisServer;
  let client: Redis;
  let admin: Redis;
  beforeAll(async () => {
    server = await startRedisServer();
    client = new Redis(server.url);
    admin = new Redis(server.url);
  });
  afterAll(async () => {
    await deleteKeys(admin, prefix);
    await Promise.all([client.quit(), admin.quit()]);
    await server.dispose();
  });

  /** Every command the server runs (Lua's own included) while `op` runs, from MONITOR. */
  async function commandsDuring<T>(op: () => Promise<T>): Promise<{ value: T; commands: string[][] }> {
    const monitor = await admin.monitor();
    const seen: string[][] = [];
    monitor.on("monitor", (_t: string, args: string[]) => seen.push(args));
    try {
      const value = await op();
      const marker = `${prefix}marker-${globalThis.crypto.randomUUID()}`;
      await client.get(marker);
      for (let i = 0; i < 200 && !seen.some((a) => a.includes(marker)); i++)
        await new Promise((r) => setTimeout(r, 10));
      return { value, commands: seen.filter((a) => !a.includes(marker)) };
    } finally {
      monitor.disconnect();
    }
  }

  it(`one agent's ${FLOOD} pending escalations cost another agent nothing, and page in O(page)`, async () => {
    const store = new RedisStore({ client, prefix, maxPendingEscalations: FLOOD + 10 });
    const policy = new PermissionPolicy({
      name: `flood-${globalThis.crypto.randomUUID()}`,
      rules: [{ action: "shell", allowed: true, requireApproval: true }],
    });
    const flooder = new GateKeeper({ identity: await AgentIdentity.create("flooder"), policy, store });
    const bystander = new GateKeeper({ identity: await AgentIdentity.create("bystander"), policy, store });

    // Agent A: one real escalation with a call id, then FLOOD - 1 more written straight through the store.
    const real = await flooder.check("shell", { target: "ls", callId: "the-call" });
    const template = (await store.getEscalation(real.escalationId!))!;
    const { reservation: _r, callKey: _c, ...bare } = template;
    for (let i = 0; i < FLOOD - 1; i += 1000) {
      await Promise.all(
        Array.from({ length: Math.min(1000, FLOOD - 1 - i) }, (_, j) => {
          const escalationId = globalThis.crypto.randomUUID();
          const record: EscalationRecord = {
            ...bare,
            escalationId,
            request: { ...bare.request, escalationId },
            expiresAt: bare.expiresAt + i + j + 1,
          };
          return store.createEscalation(record, 3_600_000);
        }),
      );
    }
    expect(await admin.zcard(`${prefix}{${encodeURIComponent(policy.name)}|${flooder.identity.id}}:pending`)).toBe(
      FLOOD,
    );

    // Agent B: its two escalations, found with a handful of commands.
    const mine = [
      await bystander.check("shell", { target: "a", callId: "b1" }),
      await bystander.check("shell", { target: "b", callId: "b2" }),
    ];
    const listed = await commandsDuring(() => bystander.pendingEscalations());
    expect(listed.value.map((r) => r.escalationId)).toEqual(mine.map((d) => d.escalationId));
    expect(listed.commands.length).toBeLessThanOrEqual(10);
    const resolved = await commandsDuring(() =>
      bystander.resolveEscalation(mine[0]!.escalationId!, { approved: true, approvedBy: "alice" }),
    );
    expect(resolved.value.type).toBe("allow");
    expect(resolved.commands.length).toBeLessThanOrEqual(30);

    // Agent A's own call: O(1) by call id.
    const one = await commandsDuring(() => flooder.pendingEscalations({ callId: "the-call" }));
    expect(one.value.map((r) => r.escalationId)).toEqual([real.escalationId]);
    expect(one.commands.length).toBeLessThanOrEqual(5);

    // Agent A's inbox, a page of 50 at a time: commands grow with the page, not with the 50 000.
    const page1 = await commandsDuring(() => flooder.pendingEscalations({ limit: 50 }));
    expect(page1.value).toHaveLength(50);
    expect(page1.value[0]!.escalationId).toBe(real.escalationId); // soonest to expire first
    expect(page1.commands.length).toBeLessThanOrEqual(50 + 10);
    const page2 = await commandsDuring(() =>
      flooder.pendingEscalations({ limit: 50, after: page1.value.at(-1)!.escalationId }),
    );
    expect(page2.value).toHaveLength(50);
    expect(page2.commands.length).toBeLessThanOrEqual(50 + 15);
    const seen = new Set([...page1.value, ...page2.value].map((r) => r.escalationId));
    expect(seen.size).toBe(100);
  }, 120_000);

  it("caps one agent's pending escalations: past maxPendingEscalations it is a DENY saying so, and the use is given back", async () => {
    const store = new RedisStore({ client, prefix, maxPendingEscalations: 3 });
    const policy = new PermissionPolicy({
      name: `cap-${globalThis.crypto.randomUUID()}`,
      rules: [{ action: "deploy", allowed: true, requireApproval: true, denyAfter: 10 }],
    });
    const identity = await AgentIdentity.create("capped");
    const gate = new GateKeeper({ identity, policy, store });
    const other = new GateKeeper({ identity: await AgentIdentity.create("uncapped"), policy, store });
    const raised = [];
    for (let i = 0; i < 3; i++) raised.push(await gate.check("deploy", { target: `t${i}`, callId: `c${i}` }));
    expect(raised.map((d) => d.type)).toEqual(["escalate", "escalate", "escalate"]);
    const refused = await gate.check("deploy", { target: "t3", callId: "c3" });
    expect(refused).toMatchObject({ type: "deny", code: "escalation_limit" });
    expect(refused.reason).toMatch(/already has 3 pending escalations under policy .* \(maxPendingEscalations\)/);
    // The refused check holds no use and no call record: a retry is judged again, not replayed as an escalation.
    const used = `${prefix}{${encodeURIComponent(policy.name)}|${identity.id}}:used:deploy`;
    expect(await admin.get(used)).toBe("3");
    expect((await gate.check("deploy", { target: "t3", callId: "c3" })).code).toBe("escalation_limit");
    expect(await gate.pendingEscalations()).toHaveLength(3);
    // The cap is not a Redis failure: a store with the memory fallback refuses too, it does not escalate locally.
    const withFallback = new GateKeeper({
      identity,
      policy,
      store: new RedisStore({ client, prefix, maxPendingEscalations: 3, fallback: "memory" }),
    });
    expect(await withFallback.check("deploy", { target: "t4", callId: "c4" })).toMatchObject({
      type: "deny",
      code: "escalation_limit",
    });
    // Another agent is not affected by this one's cap.
    expect((await other.check("deploy", { target: "x" })).type).toBe("escalate");
    // Settling one makes room.
    await gate.resolveEscalation(raised[0]!.escalationId!, false);
    expect((await gate.check("deploy", { target: "t3", callId: "c3" })).type).toBe("escalate");
  });
});
