import type { GateKeeper } from "@agentgate/core";
import { runAdapterConformance, type ConformanceTamper, type ConformanceTools } from "@agentgate/core/testing";
import type {
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionMessageParam,
} from "openai/resources/chat/completions";
import { runToolCalls } from "./run-tool-calls.js";
import { FakeOpenAI, type Reply } from "./test-utils/fake-openai.js";
import { makeClient } from "./test-utils/gate.js";
import { chatCompletion } from "./test-utils/payloads.js";

// The shared adapter conformance suite, through a hand-written Chat Completions loop:
// the real `openai` client against a real local HTTP server playing recorded
// payloads, and runToolCalls between model turns. A paused call is an `escalated`
// result; the human answers with gate.answerEscalation and the app runs the same
// calls again, which is where an edited history would come in.

type Calls = ChatCompletionMessageFunctionToolCall[];
interface Paused {
  messages: ChatCompletionMessageParam[];
  calls: Calls;
  escalationId: string;
  answered?: boolean;
}

const functions = (tools: ConformanceTools) =>
  Object.fromEntries(tools.names.map((n) => [n, (input: { service: string }) => tools.run(n, input)]));
const definitions = (tools: ConformanceTools) =>
  tools.names.map((name) => ({
    type: "function" as const,
    function: {
      name,
      parameters: { type: "object", properties: { service: { type: "string" } }, required: ["service"] },
    },
  }));

/** Runs the model's calls; on an escalation stops, else sends the results and lets the model finish. */
async function step(
  gate: GateKeeper,
  tools: ConformanceTools,
  messages: ChatCompletionMessageParam[],
  calls: Calls,
  fake: FakeOpenAI,
) {
  const results = await runToolCalls(calls, { gate, tools: functions(tools) });
  const escalated = results.find((r) => r.status === "escalated");
  if (escalated?.decision.escalationId) {
    return {
      seen: undefined,
      paused: { messages, calls, escalationId: escalated.decision.escalationId } satisfies Paused,
    };
  }
  fake.play({ json: chatCompletion({ content: "done" }) });
  await makeClient(fake.baseURL).chat.completions.create({
    model: "gpt-4.1-mini",
    messages: [...messages, ...results.map((r) => r.item)],
  });
  const sent = fake.requests.at(-1)!.body.messages as Array<{ role: string; tool_call_id?: string; content?: string }>;
  const id = calls[0]!.id;
  return { seen: sent.find((m) => m.role === "tool" && m.tool_call_id === id)?.content, paused: undefined };
}

function tampered(calls: Calls, tamper: ConformanceTamper | undefined): Calls {
  const copy = structuredClone(calls);
  for (const c of copy) {
    if (tamper?.kind === "input") c.function.arguments = JSON.stringify(tamper.input);
    if (tamper?.kind === "tool") c.function.name = tamper.toolName;
    if (tamper?.kind === "callId") c.id = tamper.callId;
  }
  return copy;
}

async function withFake<T>(replies: Reply[], body: (fake: FakeOpenAI) => Promise<T>): Promise<T> {
  const fake = await FakeOpenAI.start(replies);
  try {
    return await body(fake);
  } finally {
    await fake.close();
  }
}

runAdapterConformance({
  name: "@agentgate/openai",
  run: ({ gate, tools, call }) =>
    withFake(
      [
        {
          json: chatCompletion({
            tool_calls: [{ id: call.callId, name: call.toolName, arguments: JSON.stringify(call.input) }],
          }),
        },
      ],
      async (fake) => {
        const messages: ChatCompletionMessageParam[] = [{ role: "user", content: "go" }];
        const completion = await makeClient(fake.baseURL).chat.completions.create({
          model: "gpt-4.1-mini",
          messages,
          tools: definitions(tools),
        });
        const message = completion.choices[0]!.message;
        return step(gate, tools, [...messages, message], (message.tool_calls ?? []) as Calls, fake);
      },
    ),
  resume: ({ gate, tools, paused, answer, tamper, beforeContinue }) =>
    withFake([], async (fake) => {
      const p = paused as Paused;
      // A replay runs the same calls again without answering twice.
      if (!p.answered) await gate.answerEscalation(p.escalationId, answer);
      p.answered = true;
      beforeContinue?.();
      return step(gate, tools, p.messages, tampered(p.calls, tamper), fake);
    }),
});
