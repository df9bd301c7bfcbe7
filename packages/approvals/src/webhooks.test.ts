import { AgentIdentity, GateKeeper, PermissionPolicy } from "@agentgate/core";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { redisUrl, startHarness, until, type Harness } from "./test-utils/harness.js";
import { SIGNATURE_HEADER, signWebhook, slackPayload, verifyWebhook } from "./webhooks.js";

interface Received {
  body: string;
  signature: string | undefined;
}

/** A real HTTP receiver; `behave` decides each response (status, delay). */
async function receiver(
  behave: (n: number) => { status: number; delayMs?: number },
): Promise<{ url: string; got: Received[]; server: Server }> {
  const got: Received[] = [];
  let n = 0;
  const server = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.setEncoding("utf8").on("data", (c: string) => (body += c));
    req.on("end", () => {
      got.push({ body, signature: req.headers[SIGNATURE_HEADER] as string | undefined });
      const b = behave(n++);
      setTimeout(() => res.writeHead(b.status).end(), b.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, got, server };
}

describe("webhook signatures", () => {
  it("verifies its own signature and rejects tampering, another secret and old timestamps", () => {
    const body = JSON.stringify({ type: "escalation.created" });
    const now = 1_800_000_000;
    const sig = signWebhook("s3cret", body, now);
    expect(verifyWebhook("s3cret", body, sig, { nowSeconds: now + 10 })).toBe(true);
    expect(verifyWebhook("s3cret", `${body} `, sig, { nowSeconds: now })).toBe(false);
    expect(verifyWebhook("other", body, sig, { nowSeconds: now })).toBe(false);
    expect(verifyWebhook("s3cret", body, sig, { nowSeconds: now + 301 })).toBe(false);
    expect(verifyWebhook("s3cret", body, "t=1,v1=zz", { nowSeconds: now })).toBe(false);
    expect(verifyWebhook("s3cret", body, undefined)).toBe(false);
  });

  it("the Slack payload is Block Kit text with the link, agent strings escaped", () => {
    const p = slackPayload({
      type: "escalation.created",
      at: "",
      agent: { id: "a", name: "<!channel> bot" },
      action: "tool_use",
      target: "x",
      url: "https://inbox.example/#esc-1",
    });
    expect(p.text).toContain("&lt;!channel&gt; bot");
    expect(JSON.stringify(p.blocks)).toContain("<https://inbox.example/#esc-1|Open the inbox>");
  });
});

describe.skipIf(redisUrl === null)("webhooks from a running server", () => {
  let h: Harness | undefined;
  let server: Server | undefined;
  afterEach(async () => {
    await h?.close();
    server?.close();
    server?.closeAllConnections();
  });
  const policy = new PermissionPolicy({
    name: "demo",
    rules: [{ action: "tool_use", allowed: true, escalateTargets: ["*"] }],
  });

  it("signs every event (new escalation, answer); a receiver can verify it", async () => {
    const r = await receiver(() => ({ status: 204 }));
    server = r.server;
    h = await startHarness({ webhook: { url: r.url, secret: "whsec" } });
    const gate = new GateKeeper({ identity: await AgentIdentity.create("deploy-bot"), policy, store: h.store });
    const d = await gate.checkToolCall({ toolName: "deploy", input: {} });
    await until(async () => r.got.length >= 1, 10_000, "the escalation.created webhook");
    const res = await fetch(`${h.url}/api/escalations/${d.escalationId}/approve`, {
      method: "POST",
      headers: { authorization: `Bearer ${h.aliceToken}` },
    });
    expect(res.status).toBe(200);
    await until(async () => r.got.length >= 2, 10_000, "the escalation.answered webhook");
    const events = r.got.map((g) => JSON.parse(g.body) as { type: string; escalationId: string; approver?: string });
    expect(events.map((e) => e.type)).toEqual(["escalation.created", "escalation.answered"]);
    expect(events[1]).toMatchObject({ escalationId: d.escalationId, approver: "alice", answer: "approve" });
    for (const g of r.got) expect(verifyWebhook("whsec", g.body, g.signature)).toBe(true);
  });

  it("a slow or failing webhook never blocks an answer, and failures are retried", async () => {
    const r = await receiver((n) => (n === 0 ? { status: 200, delayMs: 8000 } : { status: 500 }));
    server = r.server;
    h = await startHarness({ webhook: { url: r.url, secret: "whsec", timeoutMs: 10_000 } });
    const gate = new GateKeeper({ identity: await AgentIdentity.create("deploy-bot"), policy, store: h.store });
    const a = await gate.checkToolCall({ toolName: "deploy", input: {} });
    // The created event is in flight and hangs for 8 s: answering is still immediate.
    await until(async () => r.got.length >= 1, 10_000, "the first (slow) delivery");
    const t0 = Date.now();
    const res = await fetch(`${h.url}/api/escalations/${a.escalationId}/approve`, {
      method: "POST",
      headers: { authorization: `Bearer ${h.aliceToken}` },
    });
    expect(res.status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(1500);
    // The answer's delivery gets 500s and is retried with backoff (0.5 s, 1 s, 2 s).
    await until(async () => r.got.filter((g) => g.body.includes("escalation.answered")).length >= 3, 10_000, "retries");
  });
});
