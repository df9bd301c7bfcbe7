import { dynamicTool, generateText, isStepCount, jsonSchema, streamText, tool, type ToolExecutionOptions } from "ai";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { isGateDenial } from "./denial.js";
import { makeGate } from "./test-utils/gate.js";
import { promptsOf, scriptedModel } from "./test-utils/scripted-model.js";
import { gateTools, withGate } from "./with-gate.js";

const rules = [
  {
    action: "tool_use",
    allowed: true,
    allowedTargets: ["search", "weather", "deploy", "mcp_*", "progress"],
    escalateTargets: ["deploy"],
  },
  { action: "file_read", allowed: true, allowedTargets: ["/workspace/**"], deniedTargets: ["**/.env"] },
];

/** One generateText turn in which the model calls deploy({ service: "docs" }) through withGate. */
async function deployDocs(gate: Awaited<ReturnType<typeof makeGate>>) {
  const { runs, count } = counters();
  const model = scriptedModel([{ toolCalls: [{ toolName: "deploy", input: { service: "docs" } }] }]);
  const tools = withGate(makeTools(count), gate);
  return { runs, result: await generateText({ model, tools, prompt: "deploy", stopWhen: isStepCount(2) }) };
}

describe("gateTools", () => {
  it("is withGate under the name every adapter uses: the allowed tool runs, the denied one does not", async () => {
    const gate = await makeGate(rules);
    const { runs, count } = counters();
    const tools = gateTools(makeTools(count), gate);
    const opts = { toolCallId: "t1", messages: [], context: undefined } as ToolExecutionOptions<any>;
    expect(await tools.search.execute!({ query: "x" }, opts)).toEqual({ hits: ["result for x"] });
    expect(
      isGateDenial(
        await tools.shell.execute!({ command: "ls" }, { ...opts, toolCallId: "t2" } as ToolExecutionOptions<any>),
      ),
    ).toBe(true);
    expect(runs).toEqual({ search: 1 });
    expect(gate.decisions.map((d) => d.type)).toEqual(["allow", "deny"]);
  });
});

function counters() {
  const runs: Record<string, number> = {};
  const count = (name: string) => {
    runs[name] = (runs[name] ?? 0) + 1;
  };
  return { runs, count };
}

function makeTools(count: (name: string) => void) {
  return {
    search: tool({
      description: "web search",
      inputSchema: z.object({ query: z.string() }),
      execute: async ({ query }) => {
        count("search");
        return { hits: [`result for ${query}`] };
      },
    }),
    shell: tool({
      inputSchema: z.object({ command: z.string() }),
      execute: async () => {
        count("shell");
        return "ran";
      },
    }),
    readFile: tool({
      inputSchema: z.object({ path: z.string() }),
      execute: async ({ path }) => {
        count("readFile");
        return `contents of ${path}`;
      },
    }),
    deploy: tool({
      inputSchema: z.object({ service: z.string() }),
      execute: async ({ service }) => {
        count("deploy");
        return `deployed ${service}`;
      },
    }),
  };
}

const mapping = { readFile: { action: "file_read", target: (input: { path: string }) => input.path } };

describe("withGate in a real generateText loop", () => {
  it("runs an allowed tool and records the decision under the SDK's toolCallId", async () => {
    const gate = await makeGate(rules);
    const { runs, count } = counters();
    const model = scriptedModel([
      { toolCalls: [{ toolName: "search", input: { query: "agentgate" }, toolCallId: "call-search-1" }] },
    ]);
    const result = await generateText({
      model,
      tools: withGate(makeTools(count), gate, { mapping }),
      prompt: "search",
      stopWhen: isStepCount(3),
    });
    expect(runs.search).toBe(1);
    expect(result.steps[0]?.toolResults[0]?.output).toEqual({ hits: ["result for agentgate"] });
    expect(result.text).toBe("done");
    const decision = gate.decisions.at(-1);
    expect(decision).toMatchObject({ type: "allow", action: "tool_use", target: "search", callId: "call-search-1" });
  });

  it("never runs a denied tool and shows the denial to the model in its next prompt", async () => {
    const gate = await makeGate(rules);
    const { runs, count } = counters();
    const model = scriptedModel([{ toolCalls: [{ toolName: "readFile", input: { path: "/workspace/.env" } }] }]);
    const result = await generateText({
      model,
      tools: withGate(makeTools(count), gate, { mapping }),
      prompt: "read secrets",
      stopWhen: isStepCount(3),
    });
    expect(runs.readFile).toBeUndefined();
    const output = result.steps[0]?.toolResults[0]?.output;
    expect(isGateDenial(output)).toBe(true);
    expect(output).toMatchObject({ denied: true, decision: "deny" });
    // Not a tool-error: a policy decision is a normal result the model can read.
    expect(result.steps[0]?.content.some((p) => p.type === "tool-error")).toBe(false);
    const secondPrompt = promptsOf(model)[1] ?? "";
    expect(secondPrompt).toContain('"denied":true');
    expect(secondPrompt).toContain(JSON.stringify((output as { reason: string }).reason));
    expect(gate.decisions.at(-1)).toMatchObject({ type: "deny", action: "file_read", target: "/workspace/.env" });
  });

  it("turns an escalation without approval handler into a denial that says approval is required", async () => {
    const gate = await makeGate(rules);
    const { runs, result } = await deployDocs(gate);
    expect(runs.deploy).toBeUndefined();
    const output = result.steps[0]?.toolResults[0]?.output as { decision: string; reason: string };
    expect(output.decision).toBe("escalate");
    expect(output.reason).toMatch(/approval/i);
  });

  it("awaits the gate's approval handler for an escalation", async () => {
    const asked: unknown[] = [];
    const gate = await makeGate(rules, {
      approvalHandler: async (request) => {
        asked.push(request);
        return { approved: true, approvedBy: "alice" };
      },
    });
    const { runs, result } = await deployDocs(gate);
    expect(asked).toHaveLength(1);
    expect(runs.deploy).toBe(1);
    expect(result.steps[0]?.toolResults[0]?.output).toBe("deployed docs");
    expect(gate.decisions.at(-1)).toMatchObject({ type: "allow", approvedBy: "alice" });
  });

  it("denies when the approval handler says no", async () => {
    const gate = await makeGate(rules, { approvalHandler: () => false });
    const { runs, result } = await deployDocs(gate);
    expect(runs.deploy).toBeUndefined();
    expect(result.steps[0]?.toolResults[0]?.output).toMatchObject({ denied: true, decision: "deny" });
  });

  it("decides each of several parallel tool calls in one step", async () => {
    const gate = await makeGate(rules);
    const { runs, count } = counters();
    const model = scriptedModel([
      {
        toolCalls: [
          { toolName: "search", input: { query: "a" } },
          { toolName: "shell", input: { command: "rm -rf /" } },
          { toolName: "readFile", input: { path: "/workspace/notes.md" } },
          { toolName: "readFile", input: { path: "/workspace/../etc/passwd" } },
        ],
      },
    ]);
    const result = await generateText({
      model,
      tools: withGate(makeTools(count), gate, { mapping }),
      prompt: "go",
      stopWhen: isStepCount(2),
    });
    expect(runs).toEqual({ search: 1, readFile: 1 });
    const outputs = result.steps[0]?.toolResults.map((r) => isGateDenial(r.output)) ?? [];
    expect(outputs).toEqual([false, true, false, true]);
    const callIds = result.steps[0]?.toolCalls.map((c) => c.toolCallId);
    expect(gate.decisions.map((d) => d.callId)).toEqual(callIds);
  });

  it("gates dynamic (MCP-style) tools by name", async () => {
    const gate = await makeGate(rules);
    const { runs, count } = counters();
    const mcp = {
      mcp_lookup: dynamicTool({
        description: "lookup",
        inputSchema: jsonSchema({ type: "object", properties: { id: { type: "string" } } }),
        execute: async () => {
          count("mcp_lookup");
          return { found: true };
        },
      }),
      other_server_drop: dynamicTool({
        inputSchema: jsonSchema({ type: "object" }),
        execute: async () => {
          count("other_server_drop");
          return { dropped: true };
        },
      }),
    };
    const model = scriptedModel([
      {
        toolCalls: [
          { toolName: "mcp_lookup", input: { id: "1" } },
          { toolName: "other_server_drop", input: {} },
        ],
      },
    ]);
    const result = await generateText({ model, tools: withGate(mcp, gate), prompt: "go", stopWhen: isStepCount(2) });
    expect(runs).toEqual({ mcp_lookup: 1 });
    expect(result.steps[0]?.toolResults.map((r) => r.dynamic)).toEqual([true, true]);
    expect(isGateDenial(result.steps[0]?.toolResults[1]?.output)).toBe(true);
  });

  it("keeps async-generator tools streaming preliminary results through streamText", async () => {
    const gate = await makeGate(rules);
    const { runs, count } = counters();
    const tools = {
      progress: tool({
        inputSchema: z.object({ steps: z.number() }),
        async *execute({ steps }) {
          count("progress");
          for (let i = 1; i <= steps; i++) yield { done: i, of: steps };
        },
      }),
      shell: tool({
        inputSchema: z.object({ command: z.string() }),
        async *execute() {
          count("shell");
          yield "should never stream";
        },
      }),
    };
    const model = scriptedModel([
      {
        toolCalls: [
          { toolName: "progress", input: { steps: 3 } },
          { toolName: "shell", input: { command: "ls" } },
        ],
      },
    ]);
    const result = streamText({ model, tools: withGate(tools, gate), prompt: "go", stopWhen: isStepCount(2) });
    const parts = [];
    for await (const part of result.fullStream) if (part.type === "tool-result") parts.push(part);
    const progress = parts.filter((p) => p.toolName === "progress");
    expect(progress.filter((p) => p.preliminary).map((p) => p.output)).toEqual([
      { done: 1, of: 3 },
      { done: 2, of: 3 },
      { done: 3, of: 3 },
    ]);
    expect(progress.find((p) => !p.preliminary)?.output).toEqual({ done: 3, of: 3 });
    expect(runs).toEqual({ progress: 1 });
    const shell = parts.filter((p) => p.toolName === "shell" && !p.preliminary);
    expect(isGateDenial(shell[0]?.output)).toBe(true);
  });

  it("sends denials as JSON even when the tool has its own toModelOutput", async () => {
    const gate = await makeGate(rules);
    const { count } = counters();
    const tools = {
      shell: tool({
        inputSchema: z.object({ command: z.string() }),
        execute: async () => {
          count("shell");
          return { stdout: "x" };
        },
        // Would throw on a denial object, which has no stdout.
        toModelOutput: ({ output }) => ({ type: "text", value: output.stdout.toUpperCase() }),
      }),
    };
    const model = scriptedModel([{ toolCalls: [{ toolName: "shell", input: { command: "ls" } }] }]);
    const result = await generateText({ model, tools: withGate(tools, gate), prompt: "go", stopWhen: isStepCount(2) });
    expect(result.text).toBe("done");
    expect(promptsOf(model)[1]).toContain('"denied":true');
  });
});

describe("withGate tool copies", () => {
  it("keeps non-enumerable and symbol properties, the prototype, and leaves tools without execute alone", async () => {
    const gate = await makeGate(rules);
    const marker = Symbol("marker");
    class SearchTool {
      inputSchema = z.object({ query: z.string() });
      #secret = "from-private-field";
      async execute() {
        return this.#secret;
      }
    }
    const instance = new SearchTool();
    Object.defineProperty(instance, "hidden", { value: 42, enumerable: false });
    (instance as unknown as Record<symbol, string>)[marker] = "kept";
    const clientSide = tool({ inputSchema: z.object({ q: z.string() }), outputSchema: z.string() });
    const tools = { search: instance as unknown as ReturnType<typeof tool>, clientSide };
    Object.defineProperty(tools, "notListed", { value: clientSide, enumerable: false });

    const gated = withGate(tools, gate);
    expect(gated.clientSide).toBe(clientSide);
    expect(Object.getOwnPropertyDescriptor(gated, "notListed")?.enumerable).toBe(false);
    const search = gated.search as unknown as SearchTool & { hidden: number } & Record<symbol, string>;
    expect(search).not.toBe(instance);
    expect(search).toBeInstanceOf(SearchTool);
    expect(search.hidden).toBe(42);
    expect(Object.getOwnPropertyDescriptor(search, "hidden")?.enumerable).toBe(false);
    expect(search[marker]).toBe("kept");
    // The original execute still runs against the original instance (private fields work).
    const options = { toolCallId: "c-private", messages: [], context: undefined } as ToolExecutionOptions<any>;
    const execute = (gated.search as unknown as { execute: (i: unknown, o: unknown) => Promise<unknown> }).execute;
    expect(await execute.call(gated.search, { query: "x" }, options)).toBe("from-private-field");
    // The input tools are untouched.
    expect(instance.execute).toBe(SearchTool.prototype.execute);
  });

  it("counts a toolCallId once and runs it once: a replay of the same call is refused", async () => {
    const gate = await makeGate([{ action: "tool_use", allowed: true, maxPerMinute: 1 }]);
    const { runs, count } = counters();
    const tools = withGate(makeTools(count), gate);
    const options = (toolCallId: string) =>
      ({ toolCallId, messages: [], context: undefined }) as ToolExecutionOptions<any>;
    expect(await tools.search.execute({ query: "a" }, options("same"))).toEqual({ hits: ["result for a"] });
    expect(await tools.search.execute({ query: "a" }, options("same"))).toMatchObject({
      denied: true,
      code: "call_replayed",
    });
    const third = await tools.search.execute({ query: "a" }, options("other"));
    expect(third).toMatchObject({ denied: true, code: "rate_limit" });
    expect((third as { retryAfterMs?: number }).retryAfterMs).toBeGreaterThan(0);
    expect(runs.search).toBe(1);
    expect(gate.decisions.filter((d) => d.type === "allow")).toHaveLength(1);
  });

  it("rejects a reused toolCallId with a different input", async () => {
    // Per-call records are kept for stateful rules (limits, escalations).
    const gate = await makeGate([{ action: "tool_use", allowed: true, maxPerMinute: 10 }]);
    const { runs, count } = counters();
    const tools = withGate(makeTools(count), gate);
    const options = { toolCallId: "reused", messages: [], context: undefined } as ToolExecutionOptions<any>;
    await tools.search.execute({ query: "a" }, options);
    expect(await tools.search.execute({ query: "b" }, options)).toMatchObject({ denied: true, code: "call_mismatch" });
    expect(runs.search).toBe(1);
  });

  it("fails closed when its own glue throws", async () => {
    const gate = await makeGate(rules);
    const { runs, count } = counters();
    const tools = withGate(makeTools(count), gate, {
      context: () => {
        throw new Error("tenant lookup failed");
      },
    });
    const result = await tools.search.execute({ query: "a" }, {
      toolCallId: "glue",
      messages: [],
      context: undefined,
    } as ToolExecutionOptions<any>);
    expect(result).toMatchObject({ denied: true, decision: "deny", code: "internal_error" });
    expect((result as unknown as { reason: string }).reason).toContain("tenant lookup failed");
    expect(runs.search).toBeUndefined();
  });

  it("denies when a mapping target function throws", async () => {
    const gate = await makeGate(rules);
    const { runs, count } = counters();
    const tools = withGate(makeTools(count), gate, {
      mapping: {
        readFile: {
          action: "file_read",
          target: () => {
            throw new Error("boom");
          },
        },
      },
    });
    const result = await tools.readFile.execute({ path: "/workspace/a" }, {
      toolCallId: "map-throw",
      messages: [],
      context: undefined,
    } as ToolExecutionOptions<any>);
    expect(result).toMatchObject({ denied: true, decision: "deny" });
    expect(runs.readFile).toBeUndefined();
  });

  it("passes the tool context to the context resolver and the decision", async () => {
    const seen: unknown[] = [];
    const gate = await makeGate(rules);
    const tools = withGate(
      makeTools(() => {}),
      gate,
      {
        context: (info) => {
          seen.push(info);
          return { tenant: "acme" };
        },
      },
    );
    await tools.search.execute({ query: "a" }, {
      toolCallId: "ctx",
      messages: [],
      context: { user: "u1" },
    } as ToolExecutionOptions<any>);
    expect(seen).toEqual([
      { toolName: "search", toolCallId: "ctx", input: { query: "a" }, toolContext: { user: "u1" } },
    ]);
  });

  it("stops waiting for an approval when the run is aborted, without running the tool", async () => {
    const gate = await makeGate(rules, {
      approvalHandler: () => new Promise<boolean>(() => {}),
      approvalTimeoutMs: 60_000,
    });
    const { runs, count } = counters();
    const controller = new AbortController();
    const model = scriptedModel([{ toolCalls: [{ toolName: "deploy", input: { service: "docs" } }] }]);
    const run = generateText({
      model,
      tools: withGate(makeTools(count), gate),
      prompt: "deploy",
      abortSignal: controller.signal,
      stopWhen: isStepCount(2),
    });
    setTimeout(() => controller.abort(new Error("user pressed ctrl-c")), 10);
    const outcome = await run.then(
      (r) => r.steps[0]?.content.find((p) => p.type === "tool-error" || p.type === "tool-result"),
      (error: unknown) => error,
    );
    expect(runs.deploy).toBeUndefined();
    expect(String((outcome as { error?: unknown })?.error ?? outcome)).toContain("ctrl-c");
  });
});

describe("withGate invariant", () => {
  it("runs a tool exactly when the gate allowed that call", async () => {
    const names = ["search", "weather", "deploy", "shell", "unknown"] as const;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...names), { minLength: 1, maxLength: 12 }),
        fc.subarray([...names]),
        fc.integer({ min: 1, max: 5 }),
        async (calls, allowed, limit) => {
          const gate = await makeGate([
            {
              action: "tool_use",
              allowed: true,
              allowedTargets: allowed.length ? allowed : ["none"],
              escalateTargets: ["deploy"],
              maxPerMinute: limit,
            },
          ]);
          const ran: string[] = [];
          const tools = Object.fromEntries(
            names.map((n) => [
              n,
              tool({
                inputSchema: z.object({}),
                execute: async (_input, { toolCallId }) => {
                  ran.push(toolCallId);
                  return "ok";
                },
              }),
            ]),
          );
          const gated = withGate(tools, gate);
          await Promise.all(
            calls.map((name, i) =>
              gated[name]!.execute!({}, {
                toolCallId: `p${i}`,
                messages: [],
                context: undefined,
              } as ToolExecutionOptions<any>),
            ),
          );
          const allowedIds = gate.decisions.filter((d) => d.type === "allow").map((d) => d.callId);
          expect(ran.sort()).toEqual(allowedIds.sort());
          expect(ran.length).toBeLessThanOrEqual(limit);
        },
      ),
      { numRuns: 60 },
    );
  });
});
