/**
 * `@agentgate/mcp`: the AgentGate gate for MCP. The proxy binary is `agentgate-mcp`;
 * this entry point is the library (no Redis client or CLI code is loaded from here).
 */
export { gateMcpClient, type GateMcpClientOptions } from "./gate-mcp-client.js";
export { gateMcpServer, type ConnectableServer } from "./gate-mcp-server.js";
export {
  GateSession,
  DENIED_ERROR_CODE,
  UPSTREAM_GONE_ERROR_CODE,
  type McpGateOptions,
  type SessionLinks,
} from "./gate-session.js";
export {
  deniesEveryCall,
  loadMapping,
  parseMapping,
  toToolMapping,
  validateMapping,
  type McpToolMapping,
  type McpToolRule,
} from "./mapping.js";
export { MappingValidationError } from "./mapping-error.js";
export { approvalMessage, quoteForDisplay } from "./approval-message.js";
