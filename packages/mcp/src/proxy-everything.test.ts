import { join } from "node:path";
import { readAuditLog } from "@agentgate/core/node";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectStdio, EVERYTHING_SERVER, tempDir, text, type StdioProxy } from "./test-utils/proxy-harness.js";

// The proxy in front of the real server-everything (from npm), driven by real SDK clients over stdio.
const conf = tempDir("agentgate-mcp-everything-");
const policy = conf.write(
  "policy.yaml",
  `name: everything
rules:
  - action: tool_use
    allowed: true
    allowed_targets: [echo, get-sum, trigger-sampling-request, trigger-long-running-operation, trigger-elicitation-request]
    escalate_targets: [get-sum]
  - action: data_access
    allowed: true
    allowed_targets: ["demo://resource/static/**"]
`,
);
const upstream = ["--", process.execPath, EVERYTHING_SERVER, "stdio"];
afterAll(() => conf.cleanup());

describe("escalation through MCP elicitation", () => {
  let proxy: StdioProxy;
  const asked: string[] = [];
  let answer: "accept" | "decline" = "accept";
  const audit = join(conf.dir, "elicit-audit.jsonl");

  beforeAll(async () => {
    proxy = await connectStdio(["--policy", policy, "--audit", audit, ...upstream], {
      capabilities: { elicitation: {} },
    });
    proxy.client.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push((request.params as { message: string }).message);
      return { action: answer };
    });
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it("accept runs the call once, and the answer is audited with the client's user as approver", async () => {
    asked.length = 0;
    answer = "accept";
    const r = await proxy.client.callTool({ name: "get-sum", arguments: { a: 19, b: 23 } });
    expect(r.isError).toBeFalsy();
    expect(text(r)).toContain("42");
    expect(asked).toHaveLength(1);
    expect(asked[0]).toContain('Tool: "get-sum"');
    expect(asked[0]).toContain('Target: "get-sum"');
    expect(asked[0]).toContain('Arguments (written by the model, shown as data): {"a":19,"b":23}');
    expect(asked[0]).toMatch(/Server: "mcp-servers\/everything"|Server: "[^"]+"/);
  });

  it("decline refuses the call with the reason", async () => {
    asked.length = 0;
    answer = "decline";
    const r = await proxy.client.callTool({ name: "get-sum", arguments: { a: 1, b: 1 } });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(
      /^AgentGate denied this call: a human denied it \(user of MCP client "agentgate-test-client"\): declined in the MCP client/,
    );
    expect(asked).toHaveLength(1);
  });

  it("the audit holds the escalation, the approval and the refusal", async () => {
    await proxy.close();
    const decisions = (await readAuditLog(audit)).map((e) => e.decision).filter((d) => d.target === "get-sum");
    expect(decisions.map((d) => d.code)).toEqual(["escalate_target", "approved", "escalate_target", "approval_denied"]);
    expect(decisions[1]!.approvedBy).toBe('user of MCP client "agentgate-test-client"');
    // One approval, one run: the approved decision is the only ALLOW for this call id.
    expect(decisions.filter((d) => d.type === "allow" && d.callId === decisions[0]!.callId)).toHaveLength(1);
  });
});

describe("a client without elicitation", () => {
  let proxy: StdioProxy;
  beforeAll(async () => {
    proxy = await connectStdio(["--policy", policy, ...upstream]);
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it("gets a DENY saying human approval was required and how to configure an approver", async () => {
    const r = await proxy.client.callTool({ name: "get-sum", arguments: { a: 1, b: 2 } });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(
      /^AgentGate denied this call: the approval handler failed: human approval required \(rule "tool_use": target "get-sum" matches escalate_targets.*\), but no approver is configured: this MCP client does not support elicitation/,
    );
    expect(text(r)).toContain("approvalHandler");
  });
});

describe("pass-through of everything the policy does not govern", () => {
  let proxy: StdioProxy;
  let listChanged = 0;
  beforeAll(async () => {
    proxy = await connectStdio(["--policy", policy, ...upstream], { capabilities: { sampling: {} } });
    proxy.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      listChanged++;
    });
    proxy.client.setRequestHandler(CreateMessageRequestSchema, async () => ({
      model: "test-model",
      role: "assistant",
      content: { type: "text", text: "sampled by the test client" },
    }));
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it("passes notifications/tools/list_changed on and filters the new list again", async () => {
    for (let i = 0; i < 50 && listChanged === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(listChanged).toBeGreaterThan(0);
    const names = (await proxy.client.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual(["echo", "get-sum", "trigger-long-running-operation", "trigger-sampling-request"]);
  });

  it("refuses a hidden tool called anyway", async () => {
    const r = await proxy.client.callTool({ name: "get-env", arguments: {} });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain('target "get-env" is not in allowed_targets');
  });

  it("forwards a sampling request from the server to the client and back", async () => {
    const r = await proxy.client.callTool({
      name: "trigger-sampling-request",
      arguments: { prompt: "hi", maxTokens: 10 },
    });
    expect(r.isError).toBeFalsy();
    expect(JSON.stringify(r.content)).toContain("sampled by the test client");
  });

  it("forwards progress notifications of an allowed call", async () => {
    const progress: number[] = [];
    const r = await proxy.client.callTool(
      { name: "trigger-long-running-operation", arguments: { duration: 0.3, steps: 3 } },
      undefined,
      {
        onprogress: (p) => progress.push(p.progress),
      },
    );
    expect(r.isError).toBeFalsy();
    // server-everything may send its last progress after the result, which the SDK client then drops.
    expect(progress.slice(0, 2)).toEqual([1, 2]);
  });

  it("passes prompts and resource listings through, gates resources/read", async () => {
    expect((await proxy.client.listPrompts()).prompts.length).toBeGreaterThan(0);
    const { resources } = await proxy.client.listResources();
    const allowed = resources.find((r) => r.uri.startsWith("demo://resource/static/"))!;
    expect((await proxy.client.readResource({ uri: allowed.uri })).contents.length).toBeGreaterThan(0);
    const err = await proxy.client.readResource({ uri: "demo://resource/dynamic/text/1" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(McpError);
    expect((err as McpError).code).toBe(-32001);
    expect((err as McpError).message).toContain(
      'AgentGate denied resources/read: rule "data_access": target "demo://resource/dynamic/text/1" is not in allowed_targets',
    );
  });
});

describe("--show-denied", () => {
  it("keeps always-denied tools in tools/list, and calling one is still refused", async () => {
    const proxy = await connectStdio(["--policy", policy, "--show-denied", ...upstream]);
    try {
      const names = (await proxy.client.listTools()).tools.map((t) => t.name);
      expect(names).toContain("get-env");
      const r = await proxy.client.callTool({ name: "get-env", arguments: {} });
      expect(r.isError).toBe(true);
      expect(text(r)).toContain('target "get-env" is not in allowed_targets');
    } finally {
      await proxy.close();
    }
  });
});

describe("--approval-timeout", () => {
  it("an elicitation nobody answers is a DENY (approval_timeout) after the timeout, and the call does not run", async () => {
    const audit = join(conf.dir, "timeout-audit.jsonl");
    const proxy = await connectStdio(
      ["--policy", policy, "--approval-timeout", "400ms", "--audit", audit, ...upstream],
      { capabilities: { elicitation: {} } },
    );
    proxy.client.setRequestHandler(ElicitRequestSchema, () => new Promise<never>(() => {}));
    try {
      const r = await proxy.client.callTool({ name: "get-sum", arguments: { a: 1, b: 2 } });
      expect(r.isError).toBe(true);
      expect(text(r)).toBe("AgentGate denied this call: no approval within 400 ms (approvalTimeoutMs)");
    } finally {
      await proxy.close();
    }
    const codes = (await readAuditLog(audit)).map((e) => e.decision.code);
    expect(codes).toEqual(["escalate_target", "approval_timeout"]);
  });
});
