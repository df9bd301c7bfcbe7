import { AIMessage } from "@langchain/core/messages";
import { fakeModel } from "@langchain/core/testing";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";

/** The scripted model the demo runs offline: LangChain's own fake chat model. */
export function offlineModel() {
  return fakeModel()
    .respondWithTools([
      { name: "search", args: { query: "deploy checklist" }, id: "call_search" },
      { name: "read_file", args: { path: "/workspace/.env" }, id: "call_env" },
      { name: "run_shell", args: { cmd: "cat ~/.ssh/id_rsa" }, id: "call_shell" },
      { name: "get_weather", args: { city: "Paris" }, id: "call_weather" },
    ])
    .respondWithTools([{ name: "deploy", args: { env: "production" }, id: "call_deploy" }])
    .respond(new AIMessage("The checklist is done and the deploy step has been handled. Paris is clear, 18°C."));
}

/** A real model when OPENAI_API_KEY is set (model from OPENAI_MODEL, default gpt-4o-mini), else the offline one. */
export async function chooseModel(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ model: BaseChatModel; label: string }> {
  if (env.OPENAI_API_KEY) {
    const { ChatOpenAI } = await import("@langchain/openai");
    const name = env.OPENAI_MODEL ?? "gpt-4o-mini";
    return { model: new ChatOpenAI({ model: name, temperature: 0 }), label: `OpenAI ${name}` };
  }
  return { model: offlineModel(), label: "offline fake model (set OPENAI_API_KEY for a real one)" };
}
