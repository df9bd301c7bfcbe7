import { assistantMessage, functionCall, modelResponder, ScriptedModel } from "@openai/agents/testing";

/**
 * The offline stand-in for a real model: the SDK's own ScriptedModel, playing
 * a plausible conversation. Turn 1 asks for a search, a secret file and a
 * shell command; turn 2 asks to deploy; the last turn reports what it read
 * back from each tool (including the gate's reasons).
 */
export function scriptedModel(): ScriptedModel {
  return new ScriptedModel([
    [
      functionCall("search", { query: "AgentGate quick start" }, { callId: "call_search" }),
      functionCall("read_file", { path: "/workspace/secrets/api-token.txt" }, { callId: "call_read" }),
      functionCall("run_shell", { command: "cat /etc/passwd" }, { callId: "call_shell" }),
    ],
    [functionCall("deploy", { service: "docs-site", env: "production" }, { callId: "call_deploy" })],
    modelResponder(({ request }) => {
      const results = Array.isArray(request.input)
        ? request.input.flatMap((item) => (item.type === "function_call_result" ? [item] : []))
        : [];
      const lines = results.map((item) => {
        const output = item.output as unknown;
        const text =
          typeof output === "string"
            ? output
            : (output as { type?: string; text?: string })?.type === "text"
              ? String((output as { text: string }).text)
              : JSON.stringify(output);
        return `- ${item.name}: ${text}`;
      });
      return [assistantMessage(`Here is what happened:\n${lines.join("\n")}`)];
    }),
  ]);
}
