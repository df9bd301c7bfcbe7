import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RedisStore } from "@agentgate/redis";
import { Redis } from "ioredis";
import { inject } from "vitest";
import { addApprover, addApproverToken } from "../approvers-file.js";
import { startApprovalServer, type RunningApprovalServer } from "../serve.js";
import type { WebhookOptions } from "../webhooks.js";

export const redisUrl: string | null = inject("redisUrl");
export const chromium: string | null = inject("chromium");

export const PASSWORDS = {
  alice: "alice-password-1",
  bob: "bob-password-22",
  carol: "carol-password-333",
  "deploy-bot": "sneaky-agent-333",
} as const;

export interface Harness {
  url: string;
  prefix: string;
  dir: string;
  store: RedisStore;
  running: RunningApprovalServer;
  aliceToken: string;
  close(): Promise<void>;
}

/** A real approval server on a real Redis (its own key prefix), with approvers alice, bob and one named like the agent. */
export async function startHarness(
  options: { webhook?: WebhookOptions; signInLimit?: { perUser?: number }; pollMs?: number } = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), "agentgate-approvals-"));
  const file = join(dir, "approvers.yaml");
  for (const [name, pw] of Object.entries(PASSWORDS)) await addApprover(file, name, pw);
  const aliceToken = addApproverToken(file, "alice");
  const prefix = `agentgate-test:${globalThis.crypto.randomUUID().slice(0, 8)}:`;
  const client = new Redis(redisUrl!);
  const store = new RedisStore({ client, prefix });
  const running = await startApprovalServer({
    store,
    approvers: file,
    port: 0,
    auditFile: join(dir, "audit.jsonl"),
    pollMs: options.pollMs ?? 200,
    ...(options.webhook ? { webhook: options.webhook } : {}),
    ...(options.signInLimit ? { signInLimit: options.signInLimit } : {}),
  });
  return {
    url: running.url,
    prefix,
    dir,
    store,
    running,
    aliceToken,
    close: async () => {
      await running.close();
      store.close();
      const keys = await client.keys(`${prefix}*`);
      if (keys.length) await client.del(...keys);
      await client.quit();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Signs in over HTTP like a browser would; returns the session cookie and its CSRF token. */
export async function signIn(
  url: string,
  username: string,
  password: string,
): Promise<{ cookie: string; csrf: string }> {
  const r = await fetch(`${url}/login`, {
    method: "POST",
    body: new URLSearchParams({ username, password }),
    headers: { origin: url },
    redirect: "manual",
  });
  if (r.status !== 303) throw new Error(`sign-in failed: ${r.status}`);
  const cookie = r.headers.get("set-cookie")!.split(";")[0]!;
  const page = await (await fetch(`${url}/`, { headers: { cookie } })).text();
  const csrf = /name="csrf-token" content="([^"]+)"/.exec(page)![1]!;
  return { cookie, csrf };
}

export async function until<T>(
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
