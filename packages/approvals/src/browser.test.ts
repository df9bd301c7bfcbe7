import { AgentIdentity, GateKeeper, PermissionPolicy } from "@agentgate/core";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium as playwright, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgent, type AgentProcess } from "./test-utils/agent-process.js";
import { chromium, PASSWORDS, redisUrl, startHarness, until, type Harness } from "./test-utils/harness.js";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
// Screenshots for the README are refreshed with AGENTGATE_SCREENSHOTS=1.
const SHOTS =
  process.env.AGENTGATE_SCREENSHOTS === "1" ? fileURLToPath(new URL("../docs/", import.meta.url)) : undefined;

describe.skipIf(redisUrl === null || chromium === null)("the inbox in a real browser", () => {
  let h: Harness;
  let browser: Browser;
  let agent: AgentProcess;
  beforeAll(async () => {
    // The default 1 s refresh: new escalations must show within 2 s.
    h = await startHarness({ signInLimit: { perUser: 3 }, pollMs: 1000 });
    browser = await playwright.launch({ executablePath: chromium!, args: ARGS, headless: true });
    agent = await startAgent({ redisUrl: redisUrl!, prefix: h.prefix, timeoutMs: 60_000 });
    if (SHOTS) mkdirSync(SHOTS, { recursive: true });
  });
  afterAll(async () => {
    await agent?.stop();
    await browser?.close();
    await h?.close();
  });

  async function signedIn(name: keyof typeof PASSWORDS, viewport = { width: 1100, height: 900 }): Promise<Page> {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    await page.goto(`${h.url}/`);
    await page.getByLabel("Username").fill(name);
    await page.getByLabel("Password").fill(PASSWORDS[name]);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: /Pending approvals/ }).waitFor();
    return page;
  }
  const card = (page: Page, text: string) => page.locator("article.card", { hasText: text });

  it("refuses a wrong password, rate-limits sign-in, and sets an httpOnly SameSite=Strict cookie", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${h.url}/`);
    expect(page.url()).toMatch(/\/login$/);
    if (SHOTS) await page.screenshot({ path: `${SHOTS}sign-in.png` });
    for (let i = 0; i < 3; i++) {
      await page.getByLabel("Username").fill("bob");
      await page.getByLabel("Password").fill("wrong password");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("alert").filter({ hasText: "Wrong username or password." }).waitFor();
    }
    // Locked now: even the right password is refused until the window ends.
    await page.getByLabel("Username").fill("bob");
    await page.getByLabel("Password").fill(PASSWORDS.bob);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "Too many failed attempts" }).waitFor();
    expect(await context.cookies()).toHaveLength(0);
    await context.close();
    const alice = await signedIn("alice");
    const [cookie] = await alice.context().cookies();
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict" });
    await alice.context().close();
  });

  it("an agent in another process waits; clicking Approve resumes it with ALLOW, Deny (by keyboard) with DENY", async () => {
    const page = await signedIn("alice");
    agent.call("deploy", "to production");
    // Appears without a reload, within 2 s of the call being recorded.
    const c = card(page, agent.agentId);
    await until(async () => (await h.store.listEscalations(Date.now())).length > 0, 10_000);
    await c.waitFor({ timeout: 2500 });
    expect(await c.locator("dd.target").textContent()).toBe("deploy");
    await c.getByRole("button", { name: "Approve", exact: true }).click();
    expect(await agent.next()).toMatchObject({ type: "allow", code: "approved", approvedBy: "alice" });
    await page.getByRole("status").filter({ hasText: "Approved tool_use deploy." }).waitFor();
    expect(await card(page, agent.agentId).count()).toBe(0);

    agent.call("deploy", "again");
    await c.waitFor({ timeout: 5000 });
    await c.getByLabel(/Reason/).fill("change freeze");
    await page.keyboard.press("Tab"); // Approve
    await page.keyboard.press("Tab"); // Approve for 1 hour
    await page.keyboard.press("Tab"); // Deny
    expect(await page.evaluate("document.activeElement?.textContent")).toBe("Deny");
    await page.keyboard.press("Enter");
    expect(await agent.next()).toMatchObject({
      type: "deny",
      code: "approval_denied",
      reason: "a human denied it (alice): change freeze",
    });
    await page.context().close();
  });

  it('"Approve for 1 hour" lets the next matching call through without asking; after "Revoke" it escalates again', async () => {
    const page = await signedIn("alice");
    agent.call("migrate", "db");
    const c = card(page, agent.agentId);
    await c.waitFor({ timeout: 5000 });
    await c.getByRole("button", { name: "Approve for 1 hour" }).click();
    expect(await agent.next()).toMatchObject({ type: "allow", code: "approved" });
    await page.getByRole("status").filter({ hasText: "granted it for 1 hour" }).waitFor();
    agent.call("migrate", "db");
    const granted = await agent.next(5000);
    expect(granted).toMatchObject({ type: "allow", code: "granted", approvedBy: "alice" });
    expect(granted.grantId).toBeTruthy();

    await page.getByRole("link", { name: "Grants" }).click();
    const row = page.locator("tr", { hasText: "migrate" });
    await row.waitFor();
    if (SHOTS) await page.screenshot({ path: `${SHOTS}grants.png` });
    await row.getByRole("button", { name: "Revoke" }).click();
    await page.getByRole("status").filter({ hasText: "Revoked the grant" }).waitFor();
    agent.call("migrate", "db");
    await page.getByRole("link", { name: "Inbox" }).click();
    await c.waitFor({ timeout: 5000 });
    await c.getByRole("button", { name: "Deny" }).click();
    expect(await agent.next()).toMatchObject({ type: "deny" });
    await page.getByRole("link", { name: "History" }).click();
    await page.locator("td.what", { hasText: "revoked the grant for tool_use migrate" }).waitFor();
    if (SHOTS) await page.screenshot({ path: `${SHOTS}history.png` });
    await page.context().close();
  });

  it("a target and arguments written as HTML render inert, whether rendered by the server or live", async () => {
    const page = await signedIn("alice");
    await page.evaluate("window.__pwned = 0");
    const identity = await AgentIdentity.create('<img src=x onerror="window.__pwned=1">');
    const policy = new PermissionPolicy({
      name: "demo",
      rules: [{ action: "tool_use", allowed: true, escalateTargets: ["*"] }],
    });
    const gate = new GateKeeper({ identity, policy, store: h.store });
    const evil = '<img src=x onerror="window.__pwned=1;document.title=`pwned`">';
    await gate.checkToolCall({
      toolName: evil,
      input: { html: "<script>window.__pwned=1</script>", long: "A".repeat(500) },
    });
    const c = card(page, identity.id);
    await c.waitFor({ timeout: 2500 }); // built live from the SSE event
    expect(await c.locator("dd.target").textContent()).toBe(evil);
    expect(await page.locator("article img, article script").count()).toBe(0);
    expect(await page.evaluate("window.__pwned")).toBe(0);
    await page.reload(); // now rendered by the server
    await c.waitFor();
    expect(await c.locator("dd.target").textContent()).toBe(evil);
    expect(await c.locator("pre.args").first().textContent()).toContain("… [340 more characters]");
    expect(await page.locator("article img, article script").count()).toBe(0);
    expect(await page.evaluate("window.__pwned")).toBeUndefined();
    expect(await page.title()).not.toContain("pwned");
    const res = await page.request.get(`${h.url}/`);
    expect(res.headers()["content-security-policy"]).toContain("script-src 'self'");
    if (SHOTS) {
      await agent.call("deploy", "v2.4.1 to production");
      await card(page, agent.agentId).waitFor({ timeout: 5000 });
      await page.screenshot({ path: `${SHOTS}inbox.png`, fullPage: true });
      const phone = await signedIn("carol", { width: 390, height: 844 });
      await phone.screenshot({ path: `${SHOTS}inbox-phone.png` });
      await phone.context().close();
      await card(page, agent.agentId).getByRole("button", { name: "Deny" }).click();
      await agent.next();
    }
    await c.getByRole("button", { name: "Deny" }).click();
    await c.waitFor({ state: "detached" });
    await page.context().close();
  });

  it("two approvers at once: exactly one wins, the other sees who did", async () => {
    // bob is locked out by the rate-limit test: carol plays the second approver.
    // Both pages without live updates (slow phones): a card cannot vanish between the two clicks.
    const alice = await signedIn("alice");
    const bob = await signedIn("carol");
    agent.call("deploy", "race");
    await until(
      async () => (await h.store.listEscalations(Date.now())).some((r) => r.decision.agentId === agent.agentId),
      10_000,
    );
    const ca = card(alice, agent.agentId);
    const cb = card(bob, agent.agentId);
    for (const page of [alice, bob]) {
      await page.context().route("**/events", (route) => route.abort());
      await page.reload();
    }
    await Promise.all([ca.waitFor({ timeout: 5000 }), cb.waitFor({ timeout: 5000 })]);
    await Promise.all([
      ca.getByRole("button", { name: "Approve", exact: true }).click(),
      cb.getByRole("button", { name: "Deny" }).click(),
    ]);
    const decision = await agent.next();
    const texts = [await alice.getByRole("status").textContent(), await bob.getByRole("status").textContent()];
    const winner = decision.type === "allow" ? "alice" : "carol";
    const loserText = winner === "alice" ? texts[1] : texts[0];
    expect(loserText).toMatch(new RegExp(`^Not changed: already (approved|denied) by ${winner}\\.$`));
    expect(winner === "alice" ? texts[0] : texts[1]).toMatch(/^(Approved|Denied) tool_use deploy\.$/);
    await alice.context().close();
    await bob.context().close();
  });
});
