import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { runDemo } from "./demo.ts";

describe("openai-sdk example", () => {
  it("runs the approved deploy; denied calls never run and the model's next request carries the reasons", async () => {
    delete process.env.OPENAI_API_KEY;
    const asked: unknown[] = [];
    const result = await runDemo({
      log: () => {},
      decide: (request) => (asked.push(request), { approved: true, approvedBy: "alice" }),
    });
    expect(asked).toMatchObject([
      { action: "tool_use", target: "deploy", args: { service: "docs-site", env: "production" } },
    ]);
    expect(result.executed).toEqual(["search(AgentGate quick start)", "deploy(docs-site, production)"]);
    const summary = result.decisions.map((d) => [d.type, d.action, d.target]);
    expect(summary).toContainEqual(["deny", "file_read", "/workspace/secrets/api-token.txt"]);
    expect(summary).toContainEqual(["deny", "shell", "cat /etc/passwd"]);
    expect(summary.filter(([, action]) => action === "llm_call")).toEqual([
      ["allow", "llm_call", "offline-script"],
      ["allow", "llm_call", "offline-script"],
    ]);
    const second = result.requests[1] as {
      previous_response_id: string;
      input: { type?: string; call_id?: string; output?: string }[];
    };
    expect(second.previous_response_id).toBe("resp_1");
    const shell = second.input.find((i) => i.type === "function_call_output" && i.call_id === "call_shell");
    expect(JSON.parse(shell!.output!)).toMatchObject({ denied: true, reason: expect.stringContaining("shell") });
    expect(result.finalOutput).toContain("deploy: Deployed docs-site to production.");
    expect(result.finalOutput).toMatch(/read_file: refused \(rule "file_read"/);
  });

  it("reports a rejected deploy to the model", async () => {
    const result = await runDemo({ log: () => {}, decide: () => ({ approved: false, reason: "change freeze" }) });
    expect(result.executed).toEqual(["search(AgentGate quick start)"]);
    expect(result.finalOutput).toMatch(/deploy: refused \(.*change freeze\)/);
  });

  it("runs as `node src/index.ts` offline, auto-rejecting without a TTY and saying so", async () => {
    const env = { ...process.env };
    delete env.OPENAI_API_KEY;
    delete env.AGENTGATE_AUTO_APPROVE;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [fileURLToPath(new URL("./index.ts", import.meta.url))],
      { env, encoding: "utf8" },
    );
    expect(stdout).toContain("model: offline script");
    expect(stdout).toContain("no terminal to ask in, so auto-rejecting (set AGENTGATE_AUTO_APPROVE=1 to approve)");
    expect(stdout).toMatch(/\[gate\] ESCALATE tool_use → deploy/);
    expect(stdout).toContain("tools that actually ran: search(AgentGate quick start)\n");
  });

  it("approves the deploy without a TTY only with AGENTGATE_AUTO_APPROVE=1", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, AGENTGATE_AUTO_APPROVE: "1" };
    delete env.OPENAI_API_KEY;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [fileURLToPath(new URL("./index.ts", import.meta.url))],
      { env, encoding: "utf8" },
    );
    expect(stdout).toContain("no terminal to ask in, so auto-approving (AGENTGATE_AUTO_APPROVE=1)");
    expect(stdout).toContain("tools that actually ran: search(AgentGate quick start), deploy(docs-site, production)\n");
  });
});
