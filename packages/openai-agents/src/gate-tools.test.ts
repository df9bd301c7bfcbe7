import { MemoryStore, type GateStore } from "@agentgate/core";
import {
  Agent,
  defineToolInputGuardrail,
  hostedMcpTool,
  RunContext,
  tool,
  ToolGuardrailFunctionOutputFactory,
  type FunctionTool,
} from "@openai/agents-core";
import { assistantMessage, functionCall, ScriptedModel } from "@openai/agents-core/testing";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { gateTools } from "./index.js";
import { resolveGateInterruptions } from "./resolve-gate-interruptions.js";
import { callId, deployTool, makeGate, makeRunner, searchTool, toolResultsSeenByModel } from "./test-utils/fixtures.js";

describe("gateTools on a real Runner loop", () => {
  it("runs an allowed tool and records the ALLOW", async () => {
    const gate = await makeGate([{ action: "tool_use", allowed: true, allowedTargets: ["search"] }]);
    const ran: string[] = [];
    const id = callId();
    const model = new ScriptedModel([
      [functionCall("search", { query: "agents" }, { callId: id })],
      [assistantMessage("done")],
    ]);
    const agent = new Agent({ name: "ops", instructions: "help", model, tools: gateTools([searchTool(ran)], gate) });

    const result = await makeRunner().run(agent, "find agents");

    expect(result.finalOutput).toBe("done");
    expect(result.interruptions).toEqual([]);
    expect(ran).toEqual(["agents"]);
    expect(toolResultsSeenByModel(model.calls).get(id)).toBe("results for agents");
    expect(gate.decisions.map((d) => [d.type, d.action, d.target])).toContainEqual(["allow", "tool_use", "search"]);
  });

  it("never runs a denied tool, does not interrupt, and the model reads the reason", async () => {
    const gate = await makeGate([{ action: "tool_use", allowed: true, allowedTargets: ["search"] }]);
    const ran: string[] = [];
    const id = callId();
    const model = new ScriptedModel([
      [functionCall("deploy", { service: "api", env: "prod" }, { callId: id })],
      [assistantMessage("could not deploy")],
    ]);
    const agent = new Agent({ name: "ops", instructions: "help", model, tools: gateTools([deployTool(ran)], gate) });

    const result = await makeRunner().run(agent, "deploy");

    expect(ran).toEqual([]);
    expect(result.interruptions).toEqual([]);
    expect(result.finalOutput).toBe("could not deploy");
    const seen = JSON.parse(toolResultsSeenByModel(model.calls).get(id)!);
    const denial = gate.decisions.find((d) => d.target === "deploy")!;
    expect(denial.type).toBe("deny");
    expect(seen).toMatchObject({ denied: true, decision: "deny", code: denial.code, reason: denial.reason });
    expect(seen.reason).toMatch(/deploy/);
    // The guardrail result is on the run too, with the decision attached.
    expect(result.toolInputGuardrailResults[0]?.output.behavior.type).toBe("rejectContent");
  });

  it("audits one decision per tool call, not one per SDK hook", async () => {
    const gate = await makeGate([
      { action: "tool_use", allowed: true, allowedTargets: ["search"] },
      { action: "shell", allowed: false },
    ]);
    const [allowed, denied] = [callId(), callId()];
    const shell = tool({
      name: "run_shell",
      description: "Run a command",
      parameters: z.object({ command: z.string() }),
      execute: async () => "ran",
    });
    const model = new ScriptedModel([
      [
        functionCall("search", { query: "x" }, { callId: allowed }),
        functionCall("run_shell", { command: "ls" }, { callId: denied }),
      ],
      [assistantMessage("ok")],
    ]);
    const tools = gateTools([searchTool(), shell], gate, { mapping: { run_shell: { action: "shell" } } });
    await makeRunner().run(new Agent({ name: "ops", instructions: "", model, tools }), "go");
    expect(gate.decisions.filter((d) => d.callId === allowed)).toHaveLength(1);
    expect(gate.decisions.filter((d) => d.callId === denied)).toHaveLength(1);
  });

  it("denies a tool that has no rule at all (deny by default)", async () => {
    const gate = await makeGate([{ action: "llm_call", allowed: true }]);
    const ran: string[] = [];
    const model = new ScriptedModel([
      [functionCall("search", { query: "x" }, { callId: callId() })],
      [assistantMessage("ok")],
    ]);
    const agent = new Agent({ name: "ops", instructions: "", model, tools: gateTools([searchTool(ran)], gate) });
    await makeRunner().run(agent, "go");
    expect(ran).toEqual([]);
    expect(gate.decisions.every((d) => d.type === "deny")).toBe(true);
  });

  it("maps tools to actions and targets as in core (file_read with a normalised path)", async () => {
    const gate = await makeGate([
      { action: "file_read", allowed: true, allowedTargets: ["/workspace/**"], deniedTargets: ["**/.env"] },
    ]);
    const read: string[] = [];
    const readFile = tool({
      name: "read_file",
      description: "Read a file",
      parameters: z.object({ path: z.string() }),
      execute: async ({ path }) => {
        read.push(path);
        return `contents of ${path}`;
      },
    });
    const [ok, traversal, secret] = [callId(), callId(), callId()];
    const model = new ScriptedModel([
      [
        functionCall("read_file", { path: "/workspace/notes.md" }, { callId: ok }),
        functionCall("read_file", { path: "/workspace/../etc/passwd" }, { callId: traversal }),
        functionCall("read_file", { path: "/workspace/app/.env" }, { callId: secret }),
      ],
      [assistantMessage("read")],
    ]);
    const mapping = { read_file: { action: "file_read", target: (input: any) => input.path } };
    const agent = new Agent({ name: "ops", instructions: "", model, tools: gateTools([readFile], gate, { mapping }) });

    await makeRunner().run(agent, "read");

    expect(read).toEqual(["/workspace/notes.md"]);
    const seen = toolResultsSeenByModel(model.calls);
    expect(seen.get(ok)).toBe("contents of /workspace/notes.md");
    expect(JSON.parse(seen.get(traversal)!).denied).toBe(true);
    expect(JSON.parse(seen.get(secret)!).denied).toBe(true);
  });

  it("denies when the mapping's target function throws (core fails closed, the run goes on)", async () => {
    const gate = await makeGate([{ action: "file_read", allowed: true }]);
    const read: string[] = [];
    const readFile = tool({
      name: "read_file",
      description: "Read a file",
      parameters: z.object({ path: z.string() }),
      execute: async ({ path }) => (read.push(path), path),
    });
    const id = callId();
    const model = new ScriptedModel([
      [functionCall("read_file", { path: "/a" }, { callId: id })],
      [assistantMessage("ok")],
    ]);
    const mapping = {
      read_file: {
        action: "file_read",
        target: () => {
          throw new Error("boom");
        },
      },
    };
    const agent = new Agent({ name: "ops", instructions: "", model, tools: gateTools([readFile], gate, { mapping }) });
    const result = await makeRunner().run(agent, "read");
    expect(result.finalOutput).toBe("ok");
    expect(read).toEqual([]);
    expect(JSON.parse(toolResultsSeenByModel(model.calls).get(id)!).reason).toMatch(/boom/);
  });

  it("denies, with the store's failure as reason, when the gate's store is down", async () => {
    class BrokenStore extends MemoryStore {
      override consume(): never {
        throw new Error("store offline");
      }
    }
    const gate = await makeGate([{ action: "tool_use", allowed: true, maxPerMinute: 5 }], {
      store: new BrokenStore() as GateStore,
    });
    const ran: string[] = [];
    const id = callId();
    const model = new ScriptedModel([
      [functionCall("search", { query: "x" }, { callId: id })],
      [assistantMessage("ok")],
    ]);
    const agent = new Agent({ name: "ops", instructions: "", model, tools: gateTools([searchTool(ran)], gate) });
    const result = await makeRunner().run(agent, "go");
    expect(result.finalOutput).toBe("ok");
    expect(ran).toEqual([]);
    expect(JSON.parse(toolResultsSeenByModel(model.calls).get(id)!).reason).toMatch(/store offline/);
  });

  it("keeps parallel tool calls within a rate limit: exactly the allowed number run", async () => {
    const gate = await makeGate([{ action: "tool_use", allowed: true, allowedTargets: ["search"], maxPerMinute: 2 }]);
    const ran: string[] = [];
    const ids = [callId(), callId(), callId(), callId()];
    const model = new ScriptedModel([
      ids.map((id, i) => functionCall("search", { query: `q${i}` }, { callId: id })),
      [assistantMessage("done")],
    ]);
    const agent = new Agent({ name: "ops", instructions: "", model, tools: gateTools([searchTool(ran)], gate) });

    await makeRunner().run(agent, "search a lot");

    expect(ran).toHaveLength(2);
    const seen = toolResultsSeenByModel(model.calls);
    const denied = ids.map((id) => seen.get(id)!).filter((text) => text.startsWith("{"));
    expect(denied).toHaveLength(2);
    for (const text of denied) {
      const payload = JSON.parse(text);
      expect(payload).toMatchObject({ denied: true, code: "rate_limit" });
      expect(payload.retryAfterMs).toBeGreaterThan(0);
    }
  });

  it("gives the gate the schema-normalised input, the same one the SDK's approval step sees", async () => {
    // A limited rule makes core remember call ids; a different input under the
    // same id would be a call_mismatch DENY. Defaults and stripped keys must not cause one.
    const gate = await makeGate([{ action: "tool_use", allowed: true, maxPerMinute: 10 }]);
    const got: unknown[] = [];
    const withDefaults = tool({
      name: "list",
      description: "List things",
      parameters: z.object({ dir: z.string(), limit: z.number().default(10) }),
      strict: true,
      execute: async (input) => (got.push(input), "listed"),
    });
    const id = callId();
    const model = new ScriptedModel([
      [functionCall("list", '{"dir":"/tmp","extra":"ignored"}', { callId: id })],
      [assistantMessage("ok")],
    ]);
    const agent = new Agent({ name: "ops", instructions: "", model, tools: gateTools([withDefaults], gate) });
    await makeRunner().run(agent, "list");
    expect(got).toEqual([{ dir: "/tmp", limit: 10 }]);
    expect(gate.decisions.map((d) => d.code)).not.toContain("call_mismatch");
    expect(toolResultsSeenByModel(model.calls).get(id)).toBe("listed");
  });

  it("never runs a call whose arguments do not fit the tool's schema", async () => {
    const gate = await makeGate([{ action: "tool_use", allowed: true }]);
    const ran: string[] = [];
    const id = callId();
    const model = new ScriptedModel([
      [functionCall("search", '{"query": 42}', { callId: id })],
      [assistantMessage("ok")],
    ]);
    const agent = new Agent({ name: "ops", instructions: "", model, tools: gateTools([searchTool(ran)], gate) });
    const result = await makeRunner().run(agent, "go");
    expect(ran).toEqual([]);
    expect(result.finalOutput).toBe("ok");
    // The SDK withholds arguments that failed its schema from guardrails; the gate refuses what it cannot read.
    expect(toolResultsSeenByModel(model.calls).get(id)).toMatch(/redacted/i);
    expect(result.toolInputGuardrailResults[0]?.output.outputInfo?.agentgate).toMatchObject({
      type: "deny",
      code: "invalid_input",
    });
  });

  it("turns malformed JSON arguments into a DENY: the tool never runs and no human is asked", async () => {
    const gate = await makeGate([{ action: "tool_use", allowed: true }]);
    const ran: string[] = [];
    const id = callId();
    const model = new ScriptedModel([
      [functionCall("search", '{"query": "unterminated', { callId: id })],
      [assistantMessage("ok")],
    ]);
    const agent = new Agent({ name: "ops", instructions: "", model, tools: gateTools([searchTool(ran)], gate) });
    const runner = makeRunner();

    // The SDK itself pauses calls it cannot parse when a tool has an approval
    // policy; resolveGateInterruptions refuses them without asking anyone.
    let result = await runner.run(agent, "go");
    let asked = 0;
    while (result.interruptions.length > 0) {
      const outcomes = await resolveGateInterruptions(result, gate, () => {
        asked++;
        return true;
      });
      expect(outcomes).toHaveLength(1);
      expect(outcomes[0]).toMatchObject({ approved: false, toolName: "search", callId: id });
      expect(outcomes[0]!.reason).toMatch(/malformed JSON/);
      result = await runner.run(agent, result.state);
    }
    expect(asked).toBe(0);
    expect(ran).toEqual([]);
    expect(result.finalOutput).toBe("ok");
  });

  it("the gate's guardrail rejects, never throws, whatever it is called with", async () => {
    const gate = await makeGate([{ action: "tool_use", allowed: true }]);
    const [gated] = gateTools([searchTool([])], gate);
    const guardrail = (gated as unknown as FunctionTool).inputGuardrails![0]!;
    let result: unknown;
    expect(() => (result = guardrail.run(undefined as never))).not.toThrow();
    await expect(result).rejects.toThrow(TypeError);
  });

  it("denies malformed JSON in the guardrail itself when it runs before approval", async () => {
    const gate = await makeGate([{ action: "tool_use", allowed: true }]);
    const ran: string[] = [];
    const id = callId();
    const model = new ScriptedModel([
      [functionCall("search", "not json at all", { callId: id })],
      [assistantMessage("ok")],
    ]);
    const agent = new Agent({ name: "ops", instructions: "", model, tools: gateTools([searchTool(ran)], gate) });
    const result = await makeRunner({ toolExecution: { preApprovalInputGuardrails: true } }).run(agent, "go");
    expect(result.interruptions).toEqual([]);
    expect(ran).toEqual([]);
    // The SDK redacts what the model reads for unparsable input; the gate's reason is on the guardrail result.
    expect(toolResultsSeenByModel(model.calls).get(id)).toMatch(/redacted|not approved/i);
    const info = result.toolInputGuardrailResults[0]?.output.outputInfo?.agentgate;
    expect(info).toMatchObject({ type: "deny", code: "invalid_input" });
    expect(info.reason).toMatch(/JSON|empty argument/);
  });

  it("with an inline approval handler, escalations never interrupt: the handler's answer decides", async () => {
    const asked: string[] = [];
    const gate = await makeGate([{ action: "tool_use", allowed: true, escalateTargets: ["deploy"] }], {
      approvalHandler: async (request) => {
        asked.push(String((request.args as { env: string }).env));
        return (request.args as { env: string }).env === "staging";
      },
    });
    const ran: string[] = [];
    const [staging, prod] = [callId(), callId()];
    const model = new ScriptedModel([
      [
        functionCall("deploy", { service: "api", env: "staging" }, { callId: staging }),
        functionCall("deploy", { service: "api", env: "prod" }, { callId: prod }),
      ],
      [assistantMessage("done")],
    ]);
    const agent = new Agent({ name: "ops", instructions: "", model, tools: gateTools([deployTool(ran)], gate) });
    const result = await makeRunner().run(agent, "deploy");
    expect(result.interruptions).toEqual([]);
    expect(asked.sort()).toEqual(["prod", "staging"]);
    expect(ran).toEqual(["api@staging"]);
    expect(JSON.parse(toolResultsSeenByModel(model.calls).get(prod)!).denied).toBe(true);
  });

  it.each([
    ["a plain rule", { action: "tool_use", allowed: true }],
    ["a rate-limited rule", { action: "tool_use", allowed: true, maxPerMinute: 5 }],
  ])(
    "keeps the tool's own needsApproval for calls the gate allows (%s), and leaves those pauses alone",
    async (_label, rule) => {
      const gate = await makeGate([rule]);
      const ran: string[] = [];
      const guarded = tool({
        name: "search",
        description: "Search",
        parameters: z.object({ query: z.string() }),
        needsApproval: true,
        execute: async ({ query }) => (ran.push(query), "ok"),
      });
      const model = new ScriptedModel([
        [functionCall("search", { query: "x" }, { callId: callId() })],
        [assistantMessage("ok")],
      ]);
      const agent = new Agent({ name: "ops", instructions: "", model, tools: gateTools([guarded], gate) });
      const result = await makeRunner().run(agent, "go");
      expect(result.interruptions).toHaveLength(1);
      const outcomes = await resolveGateInterruptions(result, gate, () => true);
      expect(outcomes).toEqual([]); // not the gate's pause: untouched
      expect(ran).toEqual([]);
    },
  );

  it("calls a tool's own needsApproval function as the SDK would (run context, parsed input, call id); a throwing one runs nothing", async () => {
    const gate = await makeGate([{ action: "tool_use", allowed: true }]);
    const ran: string[] = [];
    const asked: [boolean, unknown, unknown][] = [];
    const guarded = tool({
      name: "search",
      description: "Search",
      parameters: z.object({ query: z.string() }),
      needsApproval: async (runContext, input, id) => {
        asked.push([runContext instanceof RunContext, input, id]);
        if (input.query === "boom") throw new Error("own rule broke");
        return input.query === "risky";
      },
      execute: async ({ query }) => (ran.push(query), "ok"),
    });
    const [safe, risky] = [callId(), callId()];
    const model = new ScriptedModel([
      [
        functionCall("search", { query: "safe" }, { callId: safe }),
        functionCall("search", { query: "risky" }, { callId: risky }),
      ],
      [assistantMessage("ok")],
    ]);
    const agent = new Agent({ name: "ops", instructions: "", model, tools: gateTools([guarded], gate) });
    const result = await makeRunner().run(agent, "go");
    expect(asked).toEqual([
      [true, { query: "safe" }, safe],
      [true, { query: "risky" }, risky],
    ]);
    // The tool's own pause stands (not the gate's); the safe call ran.
    expect(result.interruptions.map((i) => i.rawItem)).toMatchObject([{ callId: risky }]);
    expect(ran).toEqual(["safe"]);

    const broken = new ScriptedModel([
      [functionCall("search", { query: "boom" }, { callId: callId() })],
      [assistantMessage("ok")],
    ]);
    const failing = new Agent({ name: "ops", instructions: "", model: broken, tools: gateTools([guarded], gate) });
    await expect(makeRunner().run(failing, "go")).rejects.toThrow("own rule broke");
    expect(ran).toEqual(["safe"]);
  });

  it("keeps the tool's own input guardrails, after the gate's", async () => {
    const gate = await makeGate([{ action: "tool_use", allowed: true }]);
    const order: string[] = [];
    const own = defineToolInputGuardrail({
      name: "own",
      run: async () => (order.push("own"), ToolGuardrailFunctionOutputFactory.rejectContent("own guardrail said no")),
    });
    const ran: string[] = [];
    const t = tool({
      name: "search",
      description: "Search",
      parameters: z.object({ query: z.string() }),
      inputGuardrails: [own],
      execute: async ({ query }) => (ran.push(query), "ok"),
    });
    const [gated] = gateTools([t], gate);
    expect(gated!.inputGuardrails!.map((g) => g.name)).toEqual(["agentgate", "own"]);
    const id = callId();
    const model = new ScriptedModel([
      [functionCall("search", { query: "x" }, { callId: id })],
      [assistantMessage("ok")],
    ]);
    await makeRunner().run(new Agent({ name: "ops", instructions: "", model, tools: [gated!] }), "go");
    expect(order).toEqual(["own"]);
    expect(ran).toEqual([]);
    expect(toolResultsSeenByModel(model.calls).get(id)).toBe("own guardrail said no");
  });

  it("does not modify the tools it is given", async () => {
    const gate = await makeGate([]);
    const t = searchTool();
    const before = { needsApproval: t.needsApproval, inputGuardrails: t.inputGuardrails };
    const [gated] = gateTools([t], gate);
    expect(gated).not.toBe(t);
    expect(t.needsApproval).toBe(before.needsApproval);
    expect(t.inputGuardrails).toBe(before.inputGuardrails);
    expect(gated!.invoke).toBe(t.invoke);
  });

  it("is idempotent per gate, and stacks different gates (every one must allow)", async () => {
    const lenient = await makeGate([{ action: "tool_use", allowed: true }]);
    const strict = await makeGate([{ action: "tool_use", allowed: true, allowedTargets: ["other"] }]);
    const ran: string[] = [];
    const [once] = gateTools([searchTool(ran)], lenient);
    const [twice] = gateTools([once!], lenient);
    expect(twice).toBe(once);
    const [both] = gateTools([once!], strict);
    expect(both!.inputGuardrails!.map((g) => g.name)).toEqual(["agentgate", "agentgate"]);
    const model = new ScriptedModel([
      [functionCall("search", { query: "x" }, { callId: callId() })],
      [assistantMessage("ok")],
    ]);
    await makeRunner().run(new Agent({ name: "ops", instructions: "", model, tools: [both!] }), "go");
    expect(ran).toEqual([]);
    expect(strict.decisions.some((d) => d.type === "deny")).toBe(true);
  });

  it("gates agent tools in place, keeping the SDK's link to the sub-agent", async () => {
    const gate = await makeGate([]);
    const sub = new Agent({ name: "sub", instructions: "" });
    const agentTool = sub.asTool({ toolName: "ask_sub", toolDescription: "Ask" });
    const [gated] = gateTools([agentTool], gate);
    expect(gated).toBe(agentTool);
    expect(agentTool.inputGuardrails!.map((g) => g.name)).toEqual(["agentgate"]);
  });

  it("refuses tools it cannot gate instead of passing them through", async () => {
    const gate = await makeGate([]);
    const hosted = hostedMcpTool({ serverLabel: "docs", serverUrl: "https://example.com/mcp" });
    expect(() => gateTools([searchTool(), hosted as never], gate)).toThrow(TypeError);
    expect(() => gateTools([searchTool()], {} as never)).toThrow(/GateKeeper/);
  });
});

describe("gateTools keeps a tool's own isEnabled", () => {
  it("a predicate, a plain boolean and none at all are honoured as the SDK honours them", async () => {
    const gate = await makeGate([{ action: "tool_use", allowed: true }]);
    const agent = new Agent({ name: "ops", instructions: "" });
    const context = new RunContext({});
    const hidden = tool({ ...searchToolOptions(), isEnabled: () => false });
    const asBoolean = { ...searchTool(), isEnabled: false } as unknown as FunctionTool;
    const withoutOne = { ...searchTool(), isEnabled: undefined } as unknown as FunctionTool;
    const [a, b, c] = gateTools([hidden, asBoolean, withoutOne], gate);
    expect(await Promise.all([a, b, c].map((t) => t!.isEnabled(context, agent)))).toEqual([false, false, true]);
  });
});

function searchToolOptions() {
  return { name: "search", description: "Search", parameters: z.object({ query: z.string() }), execute: () => "x" };
}
