// Run by optional-peers.test.ts in a child process where langchain and
// @langchain/langgraph cannot be imported. Prints what worked as JSON.
import { HumanMessage } from "@langchain/core/messages";
import { fakeModel } from "@langchain/core/testing";
import { GateCallbackHandler, gateMiddleware, gateTools } from "../index.js";
import { makeGate, makeTools } from "./fixtures.js";

const gate = await makeGate();
const { search, shell, runs } = makeTools();
const [gSearch, gShell] = gateTools([search, shell], gate);
await gSearch.invoke({ query: "a" });
const refused = await gShell.invoke({ cmd: "id" });

const handler = new GateCallbackHandler(gate);
const reply = await fakeModel()
  .respond(new HumanMessage("hi"))
  .invoke([new HumanMessage("hi")], { callbacks: [handler] });

// Builds without `langchain` too: it is only needed by whoever calls createAgent.
const middleware = gateMiddleware(gate) as unknown as { name: string; [key: symbol]: unknown };

console.log(
  JSON.stringify({
    runs,
    refused: JSON.parse(refused),
    reply: reply.content,
    middleware: middleware.name,
    branded: middleware[Symbol.for("AgentMiddleware")] === true,
  }),
);
