import { deniedToolResult, PermissionDeniedError } from "@agentgate/core";
import { AIMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { fakeModel } from "@langchain/core/testing";
import { ToolNode } from "@langchain/langgraph/prebuilt";
import { createAgent } from "langchain";
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { GateCallbackHandler } from "./gate-callback-handler.js";
import { gateMiddleware } from "./gate-middleware.js";
import { gateTools } from "./gate-tools.js";
import { callId, makeGate, makeTools } from "./test-utils/fixtures.js";

// Issue 14: a block is an expected outcome. What the model reads after a denied call, and what
// LangChain prints, for each way in. A callback can stop a tool only by throwing, and LangChain's
// callback manager logs every error a handler throws (console.error with raiseError) before
// rethrowing it, so GateCallbackHandler cannot block silently; gateTools and gateMiddleware can.
const ways = ["gateMiddleware", "gateTools", "GateCallbackHandler"] as const;

describe("what the model reads after a denied tool call", () => {
  let logged: MockInstance<typeof console.error>;
  beforeEach(() => {
    logged = vi.spyOn(console, "error").mockImplementation(() => {});
  });
  afterEach(() => logged.mockRestore());

  it.each(ways)("%s in createAgent: only the gate's reason, nothing appended", async (way) => {
    const gate = await makeGate();
    const tools = makeTools();
    const model = fakeModel()
      .respondWithTools([{ name: "shell", args: { cmd: "cat /etc/shadow" }, id: callId() }])
      .respond(new AIMessage("ok"));
    const agent = createAgent({
      model,
      tools: way === "gateTools" ? gateTools([tools.shell], gate) : [tools.shell],
      middleware: way === "gateMiddleware" ? [gateMiddleware(gate)] : [],
    });
    const config = way === "GateCallbackHandler" ? { callbacks: [new GateCallbackHandler(gate)] } : {};

    await agent.invoke({ messages: [{ role: "user", content: "go" }] }, config);

    expect(tools.runs).toEqual([]);
    const denied = gate.decisions.find((d) => d.type === "deny" && d.target === "shell")!;
    const read = model.calls[1]!.messages.find((m): m is ToolMessage => ToolMessage.isInstance(m))!;
    expect(read.status).toBe("error");
    if (way === "GateCallbackHandler") {
      // The thrown error's message, as is.
      expect(read.content).toBe(new PermissionDeniedError(denied).message);
      expect(logged).toHaveBeenCalledExactlyOnceWith(
        expect.stringMatching(/^Error in handler GateCallbackHandler, handleToolStart: PermissionDeniedError: /),
      );
    } else {
      expect(JSON.parse(String(read.content))).toEqual(deniedToolResult(denied));
      expect(logged).not.toHaveBeenCalled();
    }
  });

  it("LangGraph's prebuilt ToolNode appends its own hint to a thrown error: GateCallbackHandler gets it, gateTools does not", async () => {
    const gate = await makeGate();
    const tools = makeTools();
    const call = { name: "shell", args: { cmd: "id" }, id: callId(), type: "tool_call" as const };
    const input = { messages: [new HumanMessage("go"), new AIMessage({ content: "", tool_calls: [call] })] };

    const viaHandler = await new ToolNode([tools.shell]).invoke(input, { callbacks: [new GateCallbackHandler(gate)] });
    const viaTools = await new ToolNode(gateTools([tools.shell], gate)).invoke(input);

    expect(tools.runs).toEqual([]);
    expect(String(viaHandler.messages[0].content)).toMatch(/^Error: AgentGate deny: .*\n Please fix your mistakes\.$/s);
    expect(JSON.parse(String(viaTools.messages[0].content))).toMatchObject({
      denied: true,
      code: "target_not_allowed",
    });
  });
});
