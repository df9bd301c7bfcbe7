import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { terminalApprover, type Approver } from "./approval-prompt.ts";
import { runDemo } from "./demo.ts";
import { createPrinter } from "./print.ts";
import { scriptedModel } from "./scripted-model.ts";

const run = promisify(execFile);

function capture() {
  const lines: string[] = [];
  return { lines, write: (text: string) => lines.push(...text.split("\n")), text: () => lines.join("\n") };
}

const approving: Approver = { approvedBy: "test-approver", ask: async () => ({ approved: true }) };

describe("the AI SDK demo (offline script)", () => {
  it("shows an allowed call, a denial with its reason, an approved escalation and a rate limit", async () => {
    const out = capture();
    const questions: unknown[] = [];
    const result = await runDemo({
      write: out.write,
      color: false,
      model: scriptedModel(),
      approver: { approvedBy: "test-approver", ask: async (q) => (questions.push(q), { approved: true }) },
    });
    const text = out.text();

    // Allowed, as it happened.
    expect(text).toMatch(/✔ ALLOW +tool_use +search/);
    // Denied, with the policy's reason.
    expect(text).toMatch(/✘ DENY +file_read +\/workspace\/\.env\n.*denied_targets/);
    expect(text).toMatch(/✘ DENY +shell .*\n.*Agents never get a shell/);
    // Escalated, asked, approved through the gate, then run exactly once.
    expect(text).toMatch(/⚑ ESCALATE +tool_use +deploy/);
    expect(questions).toEqual([
      {
        toolName: "deploy",
        input: { service: "docs-site", environment: "production" },
        reason: expect.stringContaining("escalate_targets"),
      },
    ]);
    expect(text).toMatch(/✔ ALLOW +tool_use +deploy \[approved by test-approver\]/);
    expect(result.executed.filter((c) => c.startsWith("deploy"))).toEqual(["deploy(docs-site → production)"]);
    // The network budget (10 a minute) trips on the eleventh status check.
    expect(text).toMatch(
      /✘ DENY +network +https:\/\/api\.example\.com\/status\/au-east\n.*max_per_minute limit of 10 reached; retry in \d+ s/,
    );
    expect(result.executed.filter((c) => c.startsWith("fetch_status"))).toHaveLength(10);

    // Refused calls never ran, and the model was told why.
    expect(result.executed.some((c) => c.includes(".env") || c.startsWith("shell"))).toBe(false);
    expect(result.text).toContain("refused: shell");
    expect(result.text).toContain("retry in");
    // One audit entry per decision point: no duplicate ALLOW for a gated tool call.
    const toolCallIds = result.decisions
      .filter((d) => d.action !== "llm_call" && d.type === "allow" && !d.approvedBy)
      .map((d) => d.callId);
    expect(new Set(toolCallIds).size).toBe(toolCallIds.length);
    // Printed in plain text when colour is off.
    expect(text).not.toContain("\x1b[");
  });

  it("keeps deploy from running when the human says no", async () => {
    const out = capture();
    const result = await runDemo({
      write: out.write,
      color: false,
      model: scriptedModel(),
      approver: { approvedBy: "test-approver", ask: async () => ({ approved: false, reason: "not today" }) },
    });
    expect(result.executed.some((c) => c.startsWith("deploy"))).toBe(false);
    expect(out.text()).toMatch(/✘ DENY +tool_use +deploy\n.*not today/);
    expect(result.text).toContain("refused: deploy");
  });

  it("without a terminal rejects by itself and says so, unless AGENTGATE_AUTO_APPROVE=1", async () => {
    const question = { toolName: "deploy", input: {}, reason: "needs a human" };
    const noTty = { isTTY: false } as NodeJS.ReadStream;
    const tty = { isTTY: true } as NodeJS.ReadStream;
    for (const [env, stdin, stdout, approved, note] of [
      [{}, noTty, tty, false, "auto-rejecting (set AGENTGATE_AUTO_APPROVE=1 to approve)"],
      [{ AGENTGATE_AUTO_APPROVE: "true" }, noTty, tty, false, "auto-rejecting"],
      [{ AGENTGATE_AUTO_APPROVE: "1" }, tty, { isTTY: false }, true, "auto-approving (AGENTGATE_AUTO_APPROVE=1)"],
    ] as const) {
      const out = capture();
      const approver = terminalApprover(createPrinter(out.write, false), stdin, env, stdout);
      expect(await approver.ask(question)).toMatchObject({ approved });
      expect(out.text()).toContain(`no terminal to ask in, so ${note}`);
      expect(approver.approvedBy).toContain("no TTY");
    }
  });

  it("colours decisions when asked to", async () => {
    const out = capture();
    await runDemo({ write: out.write, color: true, model: scriptedModel(), approver: approving });
    expect(out.text()).toContain("\x1b[32m✔ ALLOW");
    expect(out.text()).toContain("\x1b[31m✘ DENY");
  });

  it("runs as `node src/index.ts` with stdin not a terminal, as `npm run demo` does in CI: the deploy is rejected", async () => {
    const stdout = await runIndex({});
    expect(stdout).toContain("model: offline script");
    expect(stdout).toContain("no terminal to ask in, so auto-rejecting (set AGENTGATE_AUTO_APPROVE=1 to approve)");
    expect(stdout).toMatch(/✘ DENY +tool_use +deploy\n.*auto-rejected: no terminal to ask/);
    expect(stdout).toMatch(/Tools that really ran: search ×1, read_file ×1, fetch_status ×10\n/);
    expect(stdout).not.toContain("\x1b[");
    // It ends with the audit file as a table, then verifies the hash chain and signed checkpoints.
    expect(stdout).toMatch(/TIME\s+AGENT\s+DECISION\s+ACTION\s+TARGET\s+REASON/);
    expect(stdout).toMatch(/DENY\s+network\s+https:\/\/api\.example\.com\/status\/au-east/);
    expect(stdout).toMatch(/OK\s+audit\.jsonl: \d+ records \(22 decisions, \d+ signed checkpoints?\) verified/);
  });

  it("runs the deploy without a terminal only with AGENTGATE_AUTO_APPROVE=1", async () => {
    const stdout = await runIndex({ AGENTGATE_AUTO_APPROVE: "1" });
    expect(stdout).toContain("no terminal to ask in, so auto-approving (AGENTGATE_AUTO_APPROVE=1)");
    expect(stdout).toMatch(/Tools that really ran: search ×1, read_file ×1, deploy ×1, fetch_status ×10/);
  });
});

async function runIndex(extra: NodeJS.ProcessEnv): Promise<string> {
  const cwd = fileURLToPath(new URL("..", import.meta.url));
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", ...extra };
  delete env.OPENAI_API_KEY;
  delete env.FORCE_COLOR;
  if (!("AGENTGATE_AUTO_APPROVE" in extra)) delete env.AGENTGATE_AUTO_APPROVE;
  const { stdout } = await run(process.execPath, ["src/index.ts"], { cwd, env, timeout: 60_000 });
  return stdout;
}
