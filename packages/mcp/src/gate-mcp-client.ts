import { randomUUID } from "node:crypto";
import { deniedToolResult, PermissionDeniedError, type Decision, type GateKeeper } from "@agentgate/core";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { approvalRequest, askHandler, NO_APPROVER, settle } from "./escalation.js";
import type { McpGateOptions } from "./gate-session.js";
import { deniesEveryCall, toToolMapping } from "./mapping.js";

/** Options of `gateMcpClient`: the shared ones, without elicitation (the client's own user is not reachable from here). */
export type GateMcpClientOptions = Omit<McpGateOptions, "elicitation">;

type CallTool = Client["callTool"];
type ReadResource = Client["readResource"];
type ListTools = Client["listTools"];

/**
 * Gates an SDK `Client` in place: `callTool` and `readResource` are checked by the
 * gate before any request leaves, and `listTools` hides tools every call of which
 * is denied. A refused tool call resolves to `{ isError: true }` with the gate's
 * reason as text (the model reads it; the server never sees the call); a refused
 * resource read rejects with `PermissionDeniedError`. Escalations go to the gate's
 * own approval handler, else to `options.approvalHandler`, else are denied.
 * Returns the same client.
 */
export function gateMcpClient<C extends Client>(client: C, gate: GateKeeper, options: GateMcpClientOptions = {}): C {
  const mapping = options.mapping ?? {};
  const toolMapping = toToolMapping(mapping);
  const server = () => options.serverName ?? client.getServerVersion()?.name ?? "upstream";
  const timeoutMs = options.approvalTimeoutMs ?? 300_000;

  const decide = async (check: (callId: string) => Promise<Decision>, args: unknown): Promise<Decision> => {
    const decision = await check(`${server()}:${randomUUID()}`);
    if (decision.type !== "escalate") return decision;
    const answer = options.approvalHandler
      ? await askHandler(options.approvalHandler, approvalRequest(gate, decision, args), timeoutMs)
      : { failure: NO_APPROVER };
    return settle(gate, decision, answer);
  };

  const callTool: CallTool = client.callTool.bind(client);
  const readResource: ReadResource = client.readResource.bind(client);
  const listTools: ListTools = client.listTools.bind(client);

  client.callTool = (async (params, resultSchema, requestOptions) => {
    const input = params.arguments ?? {};
    const context = { server: server(), mcpMethod: "tools/call" };
    const decision = await decide(
      (callId) =>
        gate.checkToolCall({ toolName: params.name, input, callId, mapping: toolMapping, context, execute: true }),
      input,
    );
    if (decision.type !== "allow")
      return {
        content: [{ type: "text", text: `AgentGate denied this call: ${deniedToolResult(decision).reason}` }],
        isError: true,
      };
    return callTool(params, resultSchema, requestOptions);
  }) as CallTool;

  client.readResource = (async (params, requestOptions) => {
    const args = { uri: params.uri };
    const context = { server: server(), mcpMethod: "resources/read" };
    const decision = await decide(
      (callId) => gate.check("data_access", { target: params.uri, args, callId, context, execute: true }),
      args,
    );
    if (decision.type !== "allow") throw new PermissionDeniedError(decision);
    return readResource(params, requestOptions);
  }) as ReadResource;

  client.listTools = (async (params, requestOptions) => {
    const result = await listTools(params, requestOptions);
    if (options.showDenied) return result;
    return { ...result, tools: result.tools.filter((t) => !deniesEveryCall(gate.policy, t.name, mapping)) };
  }) as ListTools;

  return client;
}
