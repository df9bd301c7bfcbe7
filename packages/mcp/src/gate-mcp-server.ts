import type { GateKeeper } from "@agentgate/core";
import type { Transport, TransportSendOptions } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage, MessageExtraInfo } from "@modelcontextprotocol/sdk/types.js";
import { GateSession, type McpGateOptions } from "./gate-session.js";

/** Anything with the SDK's `connect(transport)`: an `McpServer` or a low-level `Server`. */
export interface ConnectableServer {
  connect(transport: Transport): Promise<void>;
}

/**
 * Gates an MCP server written with the TypeScript SDK at the source: every
 * transport it connects to afterwards goes through the gate, so `tools/call`
 * and `resources/read` are checked before the server's handlers run, denied
 * tools are hidden from `tools/list`, and escalations ask the client's user
 * through elicitation. Call it before `server.connect(...)`. Returns the server.
 *
 * @example
 * const server = gateMcpServer(new McpServer({ name: "files", version: "1.0.0" }), gate, {
 *   mapping: { write_file: { action: "file_write", target: "path" } },
 * });
 * await server.connect(new StdioServerTransport());
 */
export function gateMcpServer<S extends ConnectableServer>(
  server: S,
  gate: GateKeeper,
  options: McpGateOptions = {},
): S {
  const connect = server.connect.bind(server);
  server.connect = (transport: Transport) => connect(new GatedTransport(transport, gate, options));
  return server;
}

/** The transport the server sees: messages from the client pass the gate first. */
class GatedTransport implements Transport {
  readonly #outer: Transport;
  readonly #session: GateSession;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;

  constructor(outer: Transport, gate: GateKeeper, options: McpGateOptions) {
    this.#outer = outer;
    this.#session = new GateSession(gate, options, {
      toClient: (message, relatedRequestId) =>
        outer.send(message, relatedRequestId !== undefined ? { relatedRequestId } : undefined),
      toServer: (message, extra) => this.onmessage?.(message, extra as MessageExtraInfo | undefined),
    });
    outer.onmessage = (message, extra) => this.#session.fromClient(message, extra);
    outer.onclose = () => this.onclose?.();
    outer.onerror = (error) => this.onerror?.(error);
  }

  get sessionId(): string | undefined {
    return this.#outer.sessionId;
  }

  setProtocolVersion = (version: string): void => {
    this.#outer.setProtocolVersion?.(version);
  };

  start(): Promise<void> {
    return this.#outer.start();
  }

  close(): Promise<void> {
    return this.#outer.close();
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    // Responses keep their routing options (Streamable HTTP streams); the session decides what reaches the client.
    if (options?.relatedRequestId !== undefined && !("id" in message && !("method" in message))) {
      await this.#outer.send(message, options);
      return;
    }
    this.#session.fromServer(message);
  }
}
