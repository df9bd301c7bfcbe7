import { terminalApprover } from "./approval.ts";
import { runAgent } from "./agent.ts";
import { chooseModel } from "./model.ts";

const { model, label } = await chooseModel();
console.log(`LangChain createAgent + AgentGate, model: ${label}\n`);
await runAgent({ model, approve: terminalApprover(console.log) });
