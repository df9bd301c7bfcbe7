import { MockLanguageModelV4 } from "ai/test";

type Prompt = Parameters<MockLanguageModelV4["doGenerate"]>[0]["prompt"];
type ToolCall = { toolName: string; input: Record<string, unknown> };

const regions = [
  "eu-west",
  "eu-central",
  "us-east",
  "us-west",
  "ap-south",
  "ap-east",
  "sa-east",
  "af-south",
  "me-central",
  "ca-central",
  "au-east",
];

/** What the offline "model" asks for, one turn per model call. */
const turns: ToolCall[][] = [
  [{ toolName: "search", input: { query: "release 2.3 checklist" } }],
  [
    { toolName: "read_file", input: { path: "/workspace/notes/release.md" } },
    { toolName: "read_file", input: { path: "/workspace/.env" } },
    { toolName: "shell", input: { command: "cat /etc/passwd" } },
  ],
  [{ toolName: "deploy", input: { service: "docs-site", environment: "production" } }],
  // Eleven status checks at once: the policy allows ten network calls a minute.
  regions.map((region) => ({ toolName: "fetch_status", input: { url: `https://api.example.com/status/${region}` } })),
];

const usage = {
  inputTokens: { total: 100, noCache: 100, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 20, text: 20, reasoning: 0 },
};

/**
 * An offline, scripted model built on the AI SDK's own `MockLanguageModelV4`.
 * It follows a fixed plan, then answers with a summary of the tool results it
 * was shown, refusals included, the way a real model would read them.
 */
export function scriptedModel() {
  let turn = 0;
  let callId = 0;
  return new MockLanguageModelV4({
    provider: "offline",
    modelId: "scripted-ops-model",
    doGenerate: async ({ prompt }) => {
      const calls = turns[turn++];
      if (calls === undefined) {
        return {
          content: [{ type: "text", text: summarise(prompt) }],
          finishReason: { unified: "stop", raw: undefined },
          usage,
          warnings: [],
        };
      }
      return {
        content: calls.map((call) => ({
          type: "tool-call" as const,
          toolCallId: `call_${++callId}`,
          toolName: call.toolName,
          input: JSON.stringify(call.input),
        })),
        finishReason: { unified: "tool-calls", raw: undefined },
        usage,
        warnings: [],
      };
    },
  });
}

function summarise(prompt: Prompt): string {
  let ran = 0;
  const refused: string[] = [];
  for (const message of prompt) {
    if (message.role !== "tool") continue;
    for (const part of message.content) {
      if (part.type !== "tool-result") continue;
      if (part.output.type === "execution-denied") refused.push(`${part.toolName} (${part.output.reason ?? "denied"})`);
      else ran++;
    }
  }
  const unique = [...new Set(refused)];
  return [
    `Done. ${ran} tool call(s) ran; ${refused.length} were refused by policy.`,
    ...unique.map((r) => `- refused: ${r}`),
  ].join("\n");
}
