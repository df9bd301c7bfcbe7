import { Action, AgentIdentity, DecisionType, GateKeeper, PermissionPolicy } from "@agentgate/core";

const agent = await AgentIdentity.create("research-bot", { capabilities: ["search", "summarize"] });
const policy = new PermissionPolicy({
  name: "research-policy",
  rules: [
    { action: Action.TOOL_USE, allowed: true, allowedTargets: ["search"] },
    { action: Action.LLM_CALL, allowed: true, maxPerMinute: 10 },
    { action: Action.SHELL, allowed: false },
  ],
});
const gate = new GateKeeper({ identity: agent, policy });

const search = await gate.check("tool_use", { target: "search" });
console.log(search.type === DecisionType.ALLOW, search.reason); // true rule "tool_use" allows target "search"
const shell = await gate.check("shell");
console.log(shell.type, shell.reason); // deny rule "shell" does not allow this action
