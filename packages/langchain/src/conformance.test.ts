import type { GateKeeper } from "@agentgate/core";
import { runAdapterConformance, type ConformanceCall, type ConformanceTools } from "@agentgate/core/testing";
import { AIMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import { fakeModel } from "@langchain/core/testing";
import { tool } from "@langchain/core/tools";
import type { RunnableConfig } from "@langchain/core/runnables";
import { Command, MemorySaver, type Interrupt } from "@langchain/langgraph";
import { createAgent } from "langchain";
import { z } from "zod";
import { isGateInterrupt } from "./approval-interrupt.js";
import { gateMiddleware } from "./gate-middleware.js";

// The shared adapter conformance suite, through a real createAgent loop with LangChain's
// fake model and LangGraph's MemorySaver. A paused call is an interrupted thread; the
// human answers with Command({ resume }), edits go through graph.updateState, and a
// replay resumes the paused checkpoint again (time travel).

type Agent = ReturnType<typeof makeAgent>;
interface Paused {
  agent: Agent;
  thread: { configurable: { thread_id: string } };
  checkpoint: RunnableConfig;
  call: ConformanceCall;
}

function makeAgent(gate: GateKeeper, tools: ConformanceTools, call: ConformanceCall) {
  const lcTools = tools.names.map((name) =>
    tool(async (input: { service: string }) => tools.run(name, input), {
      name,
      description: `the ${name} tool`,
      schema: z.object({ service: z.string() }),
    }),
  );
  let model = fakeModel().respondWithTools([{ name: call.toolName, args: call.input, id: call.callId }]);
  for (let i = 0; i < 5; i++) model = model.respond(new AIMessage("done"));
  return createAgent({ model, tools: lcTools, middleware: [gateMiddleware(gate)], checkpointer: new MemorySaver() });
}

const seenFor = (messages: BaseMessage[], callId: string) => {
  const m = messages.find((x): x is ToolMessage => ToolMessage.isInstance(x) && x.tool_call_id === callId);
  return m === undefined ? undefined : String(m.content);
};
const paused = (r: { __interrupt__?: Interrupt[] }) => (r.__interrupt__ ?? []).some((i) => isGateInterrupt(i.value));

runAdapterConformance({
  name: "@agentgate/langchain",
  async run({ gate, tools, call }) {
    const agent = makeAgent(gate, tools, call);
    const thread = { configurable: { thread_id: globalThis.crypto.randomUUID() } };
    const result = await agent.invoke({ messages: [{ role: "user", content: "go" }] }, thread);
    const p: Paused | undefined = paused(result)
      ? { agent, thread, checkpoint: (await agent.graph.getState(thread)).config, call }
      : undefined;
    return { seen: seenFor(result.messages, call.callId), paused: p };
  },
  async resume({ paused: value, answer, tamper, beforeContinue }) {
    const p = value as Paused;
    let config: RunnableConfig = p.checkpoint;
    let callId = p.call.callId;
    if (tamper) {
      const state = await p.agent.graph.getState(p.checkpoint);
      const messages = (state.values as { messages: BaseMessage[] }).messages;
      const asked = messages.findLast(
        (m): m is AIMessage => AIMessage.isInstance(m) && (m.tool_calls?.length ?? 0) > 0,
      )!;
      const name = tamper.kind === "tool" ? tamper.toolName : p.call.toolName;
      const args = tamper.kind === "input" ? tamper.input : p.call.input;
      if (tamper.kind === "callId") callId = tamper.callId;
      const edited = new AIMessage({
        id: asked.id!,
        content: "",
        tool_calls: [{ name, args, id: callId, type: "tool_call" }],
      });
      config = await p.agent.graph.updateState(p.checkpoint, { messages: [edited] });
    }
    beforeContinue?.();
    const result = await p.agent.invoke(new Command({ resume: answer }), config);
    return { seen: seenFor(result.messages, callId), paused: paused(result) ? p : undefined };
  },
});
