import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { runDemo } from "./demo.ts";
import { scriptedModel } from "./scripted-model.ts";

describe("openai-agents example", () => {
  it("approves the deploy when the human says yes; denied tools never run", async () => {
    const lines: string[] = [];
    const asked: unknown[] = [];
    const result = await runDemo({
      model: scriptedModel(),
      log: (line) => lines.push(line),
      decide: (request) => (asked.push(request), { approved: true, approvedBy: "alice" }),
    });
    expect(asked).toMatchObject([
      { action: "tool_use", target: "deploy", args: { service: "docs-site", env: "production" } },
    ]);
    expect(result.executed).toEqual(["search(AgentGate quick start)", "deploy(docs-site, production)"]);
    const summary = result.decisions.map((d) => [d.type, d.action, d.target]);
    expect(summary).toContainEqual(["deny", "file_read", "/workspace/secrets/api-token.txt"]);
    expect(summary).toContainEqual(["deny", "shell", "cat /etc/passwd"]);
    expect(result.decisions.find((d) => d.target === "deploy" && d.type === "allow")?.approvedBy).toBe("alice");
    expect(lines.some((line) => line.startsWith("[gate] DENY") && line.includes("shell"))).toBe(true);
    expect(result.finalOutput).toContain("Deployed docs-site to production.");
  });

  it("reports the refusal to the model when the human says no", async () => {
    const result = await runDemo({
      model: scriptedModel(),
      log: () => {},
      decide: () => ({ approved: false, reason: "change freeze" }),
    });
    expect(result.executed).toEqual(["search(AgentGate quick start)"]);
    expect(result.finalOutput).toMatch(/deploy: .*change freeze/);
  });

  it("runs as `node src/index.ts` offline, auto-answering without a TTY and saying so", async () => {
    const env = { ...process.env };
    delete env.OPENAI_API_KEY;
    delete env.AGENTGATE_AUTO_APPROVE;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [fileURLToPath(new URL("./index.ts", import.meta.url))],
      {
        env,
        encoding: "utf8",
      },
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

  // `script` gives the child a real pseudo-terminal, so the prompt path runs as a person would see it.
  it.skipIf(!existsSync("/usr/bin/script"))("asks at the terminal in a TTY and follows the typed answer", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, USER: "tester" };
    delete env.OPENAI_API_KEY;
    const entry = fileURLToPath(new URL("./index.ts", import.meta.url));
    for (const [typed, ran] of [
      ["y", "deploy(docs-site, production)"],
      ["n", "search(AgentGate quick start)\r\n"],
    ] as const) {
      const child = execFile(
        "/usr/bin/script",
        ["-qec", `${JSON.stringify(process.execPath)} ${JSON.stringify(entry)}`, "/dev/null"],
        {
          env,
          encoding: "utf8",
        },
      );
      let out = "";
      child.stdout!.on("data", (chunk: string) => (out += chunk));
      child.stdin!.end(`${typed}\n`);
      await new Promise((resolve) => child.on("close", resolve));
      expect(out).toContain("approve tool_use → deploy");
      expect(out).not.toContain("no terminal to ask in");
      expect(out).toContain(`tools that actually ran: `);
      expect(out).toContain(ran);
    }
  });
});
