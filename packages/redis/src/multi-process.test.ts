import { AgentIdentity, type Decision, type PolicyConfig } from "@agentgate/core";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteKeys } from "./test-utils/keys.js";
import { builtEntry, redisUrl, testPrefix } from "./test-utils/redis-env.js";
import { spawnWorker, type Worker } from "./test-utils/workers.js";

type Brief = { type: string; code: string };

describe.skipIf(redisUrl === null)("several processes sharing one Redis", () => {
  const prefix = testPrefix("processes");
  let pool: Worker[] = [];

  // Three worker processes for the whole file; each case sets up its own gates in them.
  beforeAll(async () => {
    pool = await Promise.all(
      Array.from({ length: 3 }, () => spawnWorker({ entry: builtEntry, redisUrl: redisUrl!, prefix })),
    );
  });
  afterAll(async () => {
    await Promise.all(pool.map((w) => w.exit()));
    const admin = new Redis(redisUrl!);
    await deleteKeys(admin, prefix);
    await admin.quit();
  });

  /** `n` workers, each with a gate for `identity` and `policy`; returns bound senders. */
  async function workers(n: number, policy: PolicyConfig, identity: AgentIdentity, approve = false) {
    const gate = globalThis.crypto.randomUUID();
    const ws = pool.slice(0, n);
    await Promise.all(
      ws.map((w, i) =>
        w.setup(gate, identity, policy, approve ? { approver: { name: `human-${i}`, delayMs: 50 } } : {}),
      ),
    );
    return ws.map((w) => ({
      pid: w.pid,
      send: <T = unknown>(c: Record<string, unknown>) => w.send<T>({ ...c, gate }),
    }));
  }

  /** Every worker fires `n` checks at the same moment; returns all decisions. */
  async function hammer(ws: Awaited<ReturnType<typeof workers>>, n: number, action: string): Promise<Brief[]> {
    const all = await Promise.all(ws.map((w) => w.send<Brief[]>({ op: "burst", n, action })));
    return all.flat();
  }

  it("three processes never admit more than maxPerMinute in the window", async () => {
    const identity = await AgentIdentity.create("hammer-bot");
    const policy = {
      name: `rate-${globalThis.crypto.randomUUID()}`,
      rules: [{ action: "llm_call", allowed: true, maxPerMinute: 25 }],
    };
    const ws = await workers(3, policy, identity);
    expect(new Set(ws.map((w) => w.pid)).size).toBe(3);
    const first = await hammer(ws, 40, "llm_call");
    expect(first).toHaveLength(120);
    expect(first.filter((d) => d.type === "allow")).toHaveLength(25);
    expect(first.filter((d) => d.code === "rate_limit")).toHaveLength(95);
    // Still inside the same minute: nobody gets more.
    const second = await hammer(ws, 10, "llm_call");
    expect(second.filter((d) => d.type === "allow")).toHaveLength(0);
  });

  it("three processes never admit more than denyAfter in total", async () => {
    const identity = await AgentIdentity.create("budget-bot");
    const policy = {
      name: `total-${globalThis.crypto.randomUUID()}`,
      rules: [{ action: "tool_use", allowed: true, denyAfter: 30 }],
    };
    const ws = await workers(3, policy, identity);
    const rounds = [await hammer(ws, 25, "tool_use"), await hammer(ws, 25, "tool_use")];
    const all = rounds.flat();
    expect(all.filter((d) => d.type === "allow")).toHaveLength(30);
    expect(all.filter((d) => d.code === "deny_after")).toHaveLength(150 - 30);
    expect(rounds[1]!.filter((d) => d.type === "allow")).toHaveLength(0);
  });

  it("an escalation raised in one process is resolved in another, and the first sees it on re-check", async () => {
    const identity = await AgentIdentity.create("deploy-bot");
    const policy = {
      name: `approvals-${globalThis.crypto.randomUUID()}`,
      rules: [{ action: "tool_use", allowed: true, escalateTargets: ["deploy"], denyAfter: 10 }],
    };
    const [agent, approver] = await workers(2, policy, identity);
    const call = { toolName: "deploy", input: { service: "api", version: "1.2.3" }, callId: "call-deploy-1" };
    const raised = await agent!.send<Decision>({ op: "toolCall", call });
    expect(raised).toMatchObject({ type: "escalate", callId: "call-deploy-1" });

    const pending = await approver!.send<{ escalationId: string; args: unknown }[]>({ op: "pending" });
    expect(pending).toContainEqual(expect.objectContaining({ escalationId: raised.escalationId, args: call.input }));

    const resolved = await approver!.send<Decision>({
      op: "resolve",
      escalationId: raised.escalationId,
      resolution: { approved: true, approvedBy: "alice" },
    });
    expect(resolved).toMatchObject({
      type: "allow",
      code: "approved",
      approvedBy: "alice",
      escalationId: raised.escalationId,
    });

    // The paused run resumes: the same call id now carries the approval.
    const resumed = await agent!.send<Decision>({ op: "toolCall", call });
    expect(resumed).toEqual(resolved);
    // Nobody can settle it a second time, from either process.
    expect(
      await agent!.send({ op: "resolve", escalationId: raised.escalationId, resolution: { approved: false } }),
    ).toEqual({
      error: "AGENTGATE_ESCALATION_SETTLED",
    });
    expect(await approver!.send({ op: "pending" })).not.toContainEqual(
      expect.objectContaining({ escalationId: raised.escalationId }),
    );
  });

  it("a denial in another process gives the use back to everyone", async () => {
    const identity = await AgentIdentity.create("oncall-bot");
    const policy = {
      name: `deny-${globalThis.crypto.randomUUID()}`,
      rules: [{ action: "shell", allowed: true, requireApproval: true, denyAfter: 1 }],
    };
    const [agent, approver] = await workers(2, policy, identity);
    const raised = await agent!.send<Decision>({ op: "check", action: "shell", options: { target: "reboot" } });
    expect(raised.type).toBe("escalate");
    expect(await approver!.send({ op: "check", action: "shell", options: { target: "ls" } })).toMatchObject({
      code: "deny_after",
    });
    await approver!.send({ op: "resolve", escalationId: raised.escalationId, resolution: { approved: false } });
    expect(await approver!.send({ op: "check", action: "shell", options: { target: "ls" } })).toMatchObject({
      type: "escalate",
    });
  });

  it("an inline-approved call that three processes claim at once runs once, and every answer is audited", async () => {
    const identity = await AgentIdentity.create("run-once-bot");
    const policy = {
      name: `run-once-${globalThis.crypto.randomUUID()}`,
      rules: [{ action: "tool_use", allowed: true, requireApproval: true }],
    };
    const ws = await workers(3, policy, identity, true);
    const call = { toolName: "deploy", input: { service: "api" }, callId: "call-run-once", execute: true };
    const decided = (
      await Promise.all(
        ws.flatMap((w) => [w.send<Decision>({ op: "toolCall", call }), w.send<Decision>({ op: "toolCall", call })]),
      )
    ).flat();
    expect(decided).toHaveLength(6);
    expect(decided.filter((d) => d.type === "allow")).toHaveLength(1);
    expect(decided.filter((d) => d.code === "call_replayed")).toHaveLength(5);
    const audited = (await Promise.all(ws.map((w) => w.send<Decision[]>({ op: "decisions" })))).flat();
    expect(audited.filter((d) => d.code === "approved")).toHaveLength(1);
    // Each process asked its human at most once; every answer that lost is on record.
    const answers = audited.filter((d) => d.code === "approved" || d.code === "approval_superseded");
    expect(answers.length).toBeGreaterThanOrEqual(1);
    expect(answers.length).toBeLessThanOrEqual(3);
    // Later replays from any process are refused too.
    expect(await ws[2]!.send({ op: "toolCall", call })).toMatchObject({ type: "deny", code: "call_replayed" });
  });
});
