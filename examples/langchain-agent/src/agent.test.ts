import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { GateInterruptValue } from "@agentgate/langchain";
import { describe, expect, it } from "vitest";
import { runAgent } from "./agent.ts";
import { chooseModel, offlineModel } from "./model.ts";

describe("langchain-agent example", () => {
  it("runs the offline demo: denies the secret and the shell, asks before deploying, then deploys", async () => {
    const lines: string[] = [];
    const asked: GateInterruptValue[] = [];
    const { answer, decisions } = await runAgent({
      model: offlineModel(),
      log: (line) => lines.push(line),
      approve: async (request) => {
        asked.push(request);
        return { approved: true, approvedBy: "test-approver" };
      },
    });

    expect(asked.map((r) => [r.toolName, r.args])).toEqual([["deploy", { env: "production" }]]);
    expect(lines).toContain('    ran deploy("production")');
    expect(lines).toContain('    ran search("deploy checklist")');
    expect(lines.some((l) => l.startsWith("    ran read_file") || l.startsWith("    ran run_shell"))).toBe(false);
    expect(decisions.map((d) => [d.type, d.action, d.target ?? ""])).toEqual(
      expect.arrayContaining([
        ["deny", "file_read", "/workspace/.env"],
        ["deny", "shell", "cat ~/.ssh/id_rsa"],
        ["escalate", "tool_use", "deploy"],
        ["allow", "tool_use", "deploy"],
      ]),
    );
    expect(decisions.find((d) => d.code === "approved")?.approvedBy).toBe("test-approver");
    expect(lines.filter((l) => /^ {2}[✔✘?] /.test(l))).toHaveLength(decisions.length);
    expect(answer).toMatch(/checklist/);
  });

  it("a rejected deploy never runs", async () => {
    const lines: string[] = [];
    const { decisions } = await runAgent({
      model: offlineModel(),
      log: (line) => lines.push(line),
      approve: async () => ({ approved: false, approvedBy: "test-approver", reason: "change freeze" }),
    });
    expect(lines.some((l) => l.includes("ran deploy"))).toBe(false);
    expect(decisions.find((d) => d.code === "approval_denied")?.reason).toContain("change freeze");
  });

  it("node src/index.ts runs offline without a terminal, rejects the deploy by itself and says so", async () => {
    const stdout = await runIndex({});
    expect(stdout).toContain("offline fake model");
    expect(stdout).toContain("no terminal to ask in, so auto-rejecting (set AGENTGATE_AUTO_APPROVE=1 to approve)");
    expect(stdout).toMatch(/✘ DENY +shell/);
    expect(stdout).not.toContain("ran deploy");
  });

  it("node src/index.ts runs the deploy without a terminal only with AGENTGATE_AUTO_APPROVE=1", async () => {
    const stdout = await runIndex({ AGENTGATE_AUTO_APPROVE: "1" });
    expect(stdout).toContain("no terminal to ask in, so auto-approving (AGENTGATE_AUTO_APPROVE=1)");
    expect(stdout).toContain('ran deploy("production")');
  });

  it("uses a real OpenAI model only when OPENAI_API_KEY is set", async () => {
    expect((await chooseModel({})).label).toMatch(/offline/);
    const real = await chooseModel({ OPENAI_API_KEY: "sk-test-not-used", OPENAI_MODEL: "gpt-4o-mini" });
    expect(real.label).toBe("OpenAI gpt-4o-mini");
    expect(real.model.getName()).toBe("ChatOpenAI");
  });
});

async function runIndex(extra: NodeJS.ProcessEnv): Promise<string> {
  const env = { ...process.env, ...extra };
  delete env.OPENAI_API_KEY;
  if (!("AGENTGATE_AUTO_APPROVE" in extra)) delete env.AGENTGATE_AUTO_APPROVE;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [fileURLToPath(new URL("./index.ts", import.meta.url))],
    { env },
  );
  return stdout;
}
