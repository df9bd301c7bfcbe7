import { AIMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import { fakeModel } from "@langchain/core/testing";
import { createAgent } from "langchain";
import { describe, expect, it } from "vitest";
import { GateCallbackHandler } from "./gate-callback-handler.js";
import { gateMiddleware } from "./gate-middleware.js";
import { gateTools } from "./gate-tools.js";
import { callId, makeGate, makeTools } from "./test-utils/fixtures.js";

// One documented behaviour for the three ways in: an agent without a
// checkpointer cannot pause, so an escalated call is refused (the model reads
// why and the run goes on), the escalation stays pending, and once
// gate.resolveEscalation approves it, the same tool call id runs.
const ways = ["gateMiddleware", "gateTools", "GateCallbackHandler"] as const;

describe("an escalation in an agent without a checkpointer", () => {
  it.each(ways)(
    "%s: refused, the run goes on, the escalation stays pending; approved later, the same call runs",
    async (way) => {
      const gate = await makeGate();
      const tools = makeTools();
      const id = callId();
      const model = () =>
        fakeModel()
          .respondWithTools([{ name: "deploy", args: { env: "prod" }, id }])
          .respond(new AIMessage("Done."));
      const build = () =>
        way === "gateMiddleware"
          ? createAgent({ model: model(), tools: [tools.deploy], middleware: [gateMiddleware(gate)] })
          : way === "gateTools"
            ? createAgent({ model: model(), tools: gateTools([tools.deploy], gate) })
            : createAgent({ model: model(), tools: [tools.deploy] });
      const config = way === "GateCallbackHandler" ? { callbacks: [new GateCallbackHandler(gate)] } : {};
      const ask = { messages: [{ role: "user", content: "Ship it" }] };

      const first = await build().invoke(ask, config);

      expect(tools.runs).toEqual([]);
      const refusal = first.messages.find((m: BaseMessage): m is ToolMessage => ToolMessage.isInstance(m));
      expect(refusal?.status).toBe("error");
      expect(String(refusal?.content)).toMatch(/escalat/i);
      expect(String(refusal?.content)).not.toContain("Please fix");
      expect(first.messages.at(-1)?.content).toBe("Done.");
      const pending = await gate.pendingEscalationFor(id);
      expect(pending).toBeDefined();

      await gate.resolveEscalation(pending!.escalationId, { approved: true, approvedBy: "alice" });
      const retried = await build().invoke(ask, config);

      expect(tools.runs).toEqual(["deploy:prod"]);
      expect(
        retried.messages.some((m: BaseMessage) => ToolMessage.isInstance(m) && m.content === "deployed to prod"),
      ).toBe(true);
    },
  );
});
