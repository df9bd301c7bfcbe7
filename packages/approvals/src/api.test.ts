import { AgentIdentity, GateKeeper, PermissionPolicy } from "@agentgate/core";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisUrl, signIn, startHarness, until, type Harness } from "./test-utils/harness.js";

const policy = new PermissionPolicy({
  name: "demo",
  rules: [{ action: "tool_use", allowed: true, escalateTargets: ["*"], deniedTargets: ["rm_rf"] }],
});

describe.skipIf(redisUrl === null)("JSON API on a real server and Redis", () => {
  let h: Harness;
  let gate: GateKeeper;
  beforeAll(async () => {
    h = await startHarness();
    gate = new GateKeeper({
      identity: await AgentIdentity.create("deploy-bot"),
      policy,
      store: h.store,
      grants: h.store,
    });
  });
  afterAll(async () => h?.close());

  const pendingIds = async () => (await h.store.listEscalations(Date.now())).map((r) => r.escalationId);

  it("without a session, with a foreign Origin, or without the CSRF token: 401/403 and nothing changes", async () => {
    const d = await gate.checkToolCall({ toolName: "deploy", input: { env: "prod" } });
    const id = d.escalationId!;
    const { cookie, csrf } = await signIn(h.url, "alice", "alice-password-1");
    const post = (headers: Record<string, string>) =>
      fetch(`${h.url}/api/escalations/${id}/approve`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: "{}",
      });
    expect((await post({})).status).toBe(401);
    expect((await fetch(`${h.url}/api/escalations`)).status).toBe(401);
    expect((await post({ cookie, "x-csrf-token": csrf, origin: "https://evil.example" })).status).toBe(403);
    expect((await post({ cookie })).status).toBe(403);
    expect((await post({ cookie, "x-csrf-token": "wrong".repeat(9) })).status).toBe(403);
    expect((await post({ cookie, "x-csrf-token": csrf, "sec-fetch-site": "cross-site" })).status).toBe(403);
    expect((await post({ authorization: "Bearer agt_not-a-real-token-at-all-000000000000000" })).status).toBe(401);
    // The form endpoint too: a cross-site form post with the session cookie changes nothing.
    const form = await fetch(`${h.url}/escalations/${id}/answer`, {
      method: "POST",
      headers: { cookie, origin: "https://evil.example" },
      body: new URLSearchParams({ answer: "approve", csrf }),
      redirect: "manual",
    });
    expect(form.status).toBe(403);
    expect(await pendingIds()).toContain(id);
    expect((await h.store.getEscalation(id))?.status).toBe("pending");
    // The same request done right works.
    const ok = await post({ cookie, "x-csrf-token": csrf, origin: h.url });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ decision: { type: "allow", code: "approved", approvedBy: "alice" } });
  });

  it("a bearer token answers without cookies or CSRF; lists escalations newest first", async () => {
    const a = await gate.checkToolCall({ toolName: "first", input: {} });
    await new Promise((r) => setTimeout(r, 5));
    const b = await gate.checkToolCall({ toolName: "second", input: {} });
    const auth = { authorization: `Bearer ${h.aliceToken}` };
    const list = (await (await fetch(`${h.url}/api/escalations`, { headers: auth })).json()) as {
      escalations: { id: string }[];
    };
    const ids = list.escalations.map((e) => e.id);
    expect(ids.indexOf(b.escalationId!)).toBeLessThan(ids.indexOf(a.escalationId!));
    const r = await fetch(`${h.url}/api/escalations/${a.escalationId}/deny`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ reason: "not today" }),
    });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({
      decision: { type: "deny", code: "approval_denied", reason: "a human denied it (alice): not today" },
    });
    await fetch(`${h.url}/api/escalations/${b.escalationId}/deny`, { method: "POST", headers: auth });
    const audit = readFileSync(join(h.dir, "audit.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(audit.find((x) => x.escalationId === a.escalationId)).toMatchObject({
      type: "answer",
      approver: "alice",
      via: "token",
      answer: "deny",
    });
  });

  it("two approvers at once: exactly one wins, the other is told who did", async () => {
    for (let round = 0; round < 5; round++) {
      const d = await gate.checkToolCall({ toolName: "deploy", input: { round } });
      const alice = await signIn(h.url, "alice", "alice-password-1");
      const bob = await signIn(h.url, "bob", "bob-password-22");
      const answer = (s: { cookie: string; csrf: string }, what: string) =>
        fetch(`${h.url}/api/escalations/${d.escalationId}/${what}`, {
          method: "POST",
          headers: { cookie: s.cookie, "x-csrf-token": s.csrf, origin: h.url },
        });
      const [ra, rb] = await Promise.all([answer(alice, "approve"), answer(bob, "deny")]);
      const statuses = [ra.status, rb.status].sort();
      expect(statuses).toEqual([200, 409]);
      const loser = (ra.status === 409 ? await ra.json() : await rb.json()) as { settledBy: string; error: string };
      expect(loser.settledBy).toBe(ra.status === 200 ? "alice" : "bob");
      expect(loser.error).toMatch(/^already (approved|denied) by (alice|bob)$/);
    }
  });

  it("an approver named like the requesting agent cannot answer it", async () => {
    const d = await gate.checkToolCall({ toolName: "deploy", input: {} });
    const s = await signIn(h.url, "deploy-bot", "sneaky-agent-333");
    const r = await fetch(`${h.url}/api/escalations/${d.escalationId}/approve`, {
      method: "POST",
      headers: { cookie: s.cookie, "x-csrf-token": s.csrf, origin: h.url },
    });
    expect(r.status).toBe(403);
    expect((await h.store.getEscalation(d.escalationId!))?.status).toBe("pending");
  });

  it("approve with a grant: the next matching call is ALLOW granted; DELETE revokes; DENY stays DENY", async () => {
    const auth = { authorization: `Bearer ${h.aliceToken}`, "content-type": "application/json" };
    const d = await gate.checkToolCall({ toolName: "migrate", input: {} });
    const bad = await fetch(`${h.url}/api/escalations/${d.escalationId}/approve`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ grant: { ttlMs: 5 } }),
    });
    expect(bad.status).toBe(400);
    const r = await fetch(`${h.url}/api/escalations/${d.escalationId}/approve`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ grant: { ttlMs: 3_600_000 } }),
    });
    const body = (await r.json()) as { grant: { id: string } };
    expect(r.status).toBe(200);
    const again = await gate.checkToolCall({ toolName: "migrate", input: {} });
    expect(again).toMatchObject({ type: "allow", code: "granted", grantId: body.grant.id, approvedBy: "alice" });
    expect((await gate.checkToolCall({ toolName: "rm_rf", input: {} })).type).toBe("deny");
    const grants = (await (await fetch(`${h.url}/api/grants`, { headers: auth })).json()) as {
      grants: { id: string }[];
    };
    expect(grants.grants.map((g) => g.id)).toContain(body.grant.id);
    expect(
      (
        await fetch(`${h.url}/api/grants/${body.grant.id}`, {
          method: "DELETE",
          headers: { ...auth, origin: "https://evil.example" },
        })
      ).status,
    ).toBe(403);
    expect((await fetch(`${h.url}/api/grants/${body.grant.id}`, { method: "DELETE" })).status).toBe(401);
    expect((await gate.checkToolCall({ toolName: "migrate", input: {} })).code).toBe("granted");
    expect((await fetch(`${h.url}/api/grants/${body.grant.id}`, { method: "DELETE", headers: auth })).status).toBe(200);
    expect((await gate.checkToolCall({ toolName: "migrate", input: {} })).type).toBe("escalate");
    const audit = readFileSync(join(h.dir, "audit.jsonl"), "utf8");
    expect(audit).toContain(`"type":"grant","at"`);
    expect(audit).toMatch(new RegExp(`"type":"revoke".*"grantId":"${body.grant.id}"`));
  });

  it("malformed bodies are 400 and change nothing", async () => {
    const d = await gate.checkToolCall({ toolName: "deploy", input: {} });
    const auth = { authorization: `Bearer ${h.aliceToken}`, "content-type": "application/json" };
    for (const body of ["{", "[]", JSON.stringify({ reason: 5 }), JSON.stringify({ grant: { ttlMs: "1h" } })]) {
      expect(
        (await fetch(`${h.url}/api/escalations/${d.escalationId}/approve`, { method: "POST", headers: auth, body }))
          .status,
      ).toBe(400);
    }
    expect((await fetch(`${h.url}/api/escalations/nope/approve`, { method: "POST", headers: auth })).status).toBe(404);
    await until(async () => (await pendingIds()).includes(d.escalationId!));
  });
});
