import { randomUUID } from "node:crypto";
import {
  deniedToolResult,
  type ApprovalHandler,
  type ApprovalRequest,
  type ApprovalResolution,
  type Decision,
  type GateKeeper,
} from "@agentgate/core";
import type { JSONRPCMessage, RequestId } from "@modelcontextprotocol/sdk/types.js";
import { approvalMessage } from "./approval-message.js";
import { approvalRequest, askHandler, NO_APPROVER, settle, type AskResult } from "./escalation.js";
import { deniesEveryCall, toToolMapping, type McpToolMapping } from "./mapping.js";

/** Options shared by `gateMcpServer`, `gateMcpClient` and the proxy. */
export interface McpGateOptions {
  /** Tool name → `{ action, target }`; unmapped tools are `tool_use` on the tool name. */
  mapping?: McpToolMapping;
  /** The upstream server's name in audit records (call ids). Default: `serverInfo.name` from `initialize`. */
  serverName?: string;
  /** Keep tools the policy always denies in `tools/list` (default false: hidden). */
  showDenied?: boolean;
  /**
   * Answers escalations when the client cannot (no elicitation capability), e.g. the
   * approvals inbox. Without it such calls are denied with a reason that says how to configure one.
   */
  approvalHandler?: ApprovalHandler;
  /** How long a human has to answer an escalation, default 300 000 ms. */
  approvalTimeoutMs?: number;
  /** Ask through MCP elicitation when the client declares it (default true). */
  elicitation?: boolean;
}

/** JSON-RPC error code for a `resources/read` (or other non-tool request) the gate refused. */
export const DENIED_ERROR_CODE = -32001;
/** JSON-RPC error code for requests that cannot reach the upstream server (it exited or the connection broke). */
export const UPSTREAM_GONE_ERROR_CODE = -32000;

type Msg = JSONRPCMessage & Record<string, any>;
/** Where the session sends messages: to the MCP client (with the request they belong to) and to the server. */
export interface SessionLinks {
  toClient(message: JSONRPCMessage, relatedRequestId?: RequestId): void | Promise<void>;
  toServer(message: JSONRPCMessage, extra?: unknown): void | Promise<void>;
}

const key = (id: RequestId) => `${typeof id}:${id}`;

/**
 * The gate between one MCP client and one MCP server, at the JSON-RPC level.
 * Everything passes through unchanged except `tools/call` and `resources/read`
 * (checked first) and `tools/list` results (tools every call of which is denied are hidden).
 */
export class GateSession {
  readonly #gate: GateKeeper;
  readonly #opts: McpGateOptions;
  readonly #links: SessionLinks;
  readonly #mapping: McpToolMapping;
  readonly #toolMapping;
  /** Client requests forwarded to the server and not answered yet: id → method. */
  readonly #forwarded = new Map<string, { id: RequestId; method: string; token?: string }>();
  /** Progress tokens of forwarded requests → their request id (so progress follows its request's stream). */
  readonly #progress = new Map<string, RequestId>();
  /** Calls being checked; a cancellation before the check ends stops them from being forwarded. */
  readonly #checking = new Map<string, { cancelled: boolean }>();
  /** Requests the gate itself sent to the client (elicitation). */
  readonly #own = new Map<string, (response: Msg) => void>();
  /** Calls being checked, by call id: what an approval request about one needs to ask the right client. */
  readonly #calls = new Map<string, { tool: string | undefined; relatedId: RequestId }>();
  #serverName: string | undefined;
  #clientName = "MCP client";
  #canElicit = false;
  #gone: string | undefined;

  constructor(gate: GateKeeper, options: McpGateOptions, links: SessionLinks) {
    this.#gate = gate;
    this.#opts = options;
    this.#links = links;
    this.#mapping = options.mapping ?? {};
    this.#toolMapping = toToolMapping(this.#mapping);
    this.#serverName = options.serverName;
  }

  /** The upstream server's name as recorded in audits. */
  get serverName(): string {
    return this.#serverName ?? "upstream";
  }

  /** True while this session is checking the call: a gate-wide approval handler routes to the session that owns it. */
  owns(callId: string | undefined): boolean {
    return callId !== undefined && this.#calls.has(callId);
  }

  /**
   * Asks about an escalated call of this session (elicitation, else `approvalHandler`), for a
   * `GateKeeper` whose own `approvalHandler` routes here, as the proxy's does: the gate then
   * applies its timeout and records every outcome. Throws when nobody can answer.
   */
  async approve(request: ApprovalRequest): Promise<ApprovalResolution> {
    const call = request.callId !== undefined ? this.#calls.get(request.callId) : undefined;
    if (!call) throw new Error("the call is not being checked in this MCP session");
    const result = await this.#ask(request, call.tool, call.relatedId);
    if ("failure" in result) throw new Error(`human approval required (${request.reason}), but ${result.failure}`);
    return result.answer;
  }

  /** A message from the MCP client. */
  fromClient(message: JSONRPCMessage, extra?: unknown): void {
    const m = message as Msg;
    if (typeof m.method === "string" && m.id !== undefined) return void this.#clientRequest(m, extra);
    if (m.id !== undefined && m.method === undefined) {
      const own = this.#own.get(key(m.id));
      if (own) return own(m);
    } else if (m.method === "notifications/cancelled") {
      const id = m.params?.requestId;
      const c = id !== undefined ? this.#checking.get(key(id)) : undefined;
      if (c) c.cancelled = true;
    }
    if (this.#gone === undefined) void this.#send("server", m, extra);
  }

  /** A message from the MCP server. */
  fromServer(message: JSONRPCMessage): void {
    const m = message as Msg;
    if (m.id !== undefined && m.method === undefined) {
      const k = key(m.id);
      const sent = this.#forwarded.get(k);
      this.#forwarded.delete(k);
      if (sent?.token !== undefined) this.#progress.delete(sent.token);
      if (sent?.method === "initialize" && m.result)
        this.#serverName ??= clip(String(m.result.serverInfo?.name ?? "upstream"));
      if (sent?.method === "tools/list" && Array.isArray(m.result?.tools) && !this.#opts.showDenied) {
        const tools = m.result.tools.filter(
          (t: { name?: unknown }) =>
            typeof t?.name === "string" && !deniesEveryCall(this.#gate.policy, t.name, this.#mapping),
        );
        return void this.#send("client", { ...m, result: { ...m.result, tools } }, m.id);
      }
      return void this.#send("client", m, m.id);
    }
    if (m.method === "notifications/progress" && m.params?.progressToken !== undefined) {
      return void this.#send("client", m, this.#progress.get(key(m.params.progressToken)));
    }
    void this.#send("client", m);
  }

  /**
   * The server connection is gone: every request still waiting gets a clear error,
   * and so does every later one. Returns how many requests were failed.
   */
  serverClosed(reason: string): number {
    this.#gone = reason;
    const waiting = [...this.#forwarded.values()];
    this.#forwarded.clear();
    this.#progress.clear();
    for (const { id } of waiting) void this.#send("client", this.#goneError(id), id);
    return waiting.length;
  }

  #goneError(id: RequestId): JSONRPCMessage {
    return {
      jsonrpc: "2.0",
      id,
      error: { code: UPSTREAM_GONE_ERROR_CODE, message: `AgentGate MCP proxy: ${this.#gone}` },
    };
  }

  async #clientRequest(m: Msg, extra: unknown): Promise<void> {
    if (this.#gone !== undefined) return this.#send("client", this.#goneError(m.id), m.id);
    if (m.method === "initialize") {
      const caps = m.params?.capabilities;
      const e = caps?.elicitation;
      // Form elicitation: `elicitation: {}` (before 2025-11-25) or `elicitation: { form: {} }`.
      this.#canElicit =
        this.#opts.elicitation !== false &&
        typeof e === "object" &&
        e !== null &&
        (Object.keys(e).length === 0 || "form" in e);
      if (typeof m.params?.clientInfo?.name === "string") this.#clientName = clip(m.params.clientInfo.name);
    }
    if (m.method === "tools/call" || m.method === "resources/read") {
      const k = key(m.id);
      const state = { cancelled: false };
      this.#checking.set(k, state);
      let decision: Decision;
      try {
        decision = await this.#check(m);
      } catch (error) {
        decision = this.#gate.refuse(
          m.method === "tools/call" ? "tool_use" : "data_access",
          `the gate failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      } finally {
        this.#checking.delete(k);
      }
      if (state.cancelled) return; // the client gave up; it expects no answer
      if (decision.type !== "allow") return this.#send("client", this.#denial(m, decision), m.id);
      if (this.#gone !== undefined) return this.#send("client", this.#goneError(m.id), m.id);
    }
    const token = m.params?._meta?.progressToken;
    const tokenKey = typeof token === "string" || typeof token === "number" ? key(token) : undefined;
    this.#forwarded.set(
      key(m.id),
      tokenKey === undefined ? { id: m.id, method: m.method } : { id: m.id, method: m.method, token: tokenKey },
    );
    if (tokenKey !== undefined) this.#progress.set(tokenKey, m.id);
    return this.#send("server", m, extra);
  }

  async #check(m: Msg): Promise<Decision> {
    const callId = `${this.serverName}:${randomUUID()}`;
    this.#calls.set(callId, {
      tool: m.method === "tools/call" && typeof m.params?.name === "string" ? m.params.name : undefined,
      relatedId: m.id,
    });
    try {
      return await this.#decide(m, callId);
    } finally {
      this.#calls.delete(callId);
    }
  }

  async #decide(m: Msg, callId: string): Promise<Decision> {
    const context = { server: this.serverName, mcpMethod: m.method };
    let decision: Decision;
    let tool: string | undefined;
    let args: unknown;
    if (m.method === "tools/call") {
      const name = m.params?.name;
      args = m.params?.arguments ?? {};
      tool = typeof name === "string" && name !== "" ? name : "(missing)";
      const inputError =
        tool !== name
          ? "tools/call without a tool name"
          : typeof args !== "object" || args === null || Array.isArray(args)
            ? "arguments must be an object"
            : undefined;
      decision = await this.#gate.checkToolCall({
        toolName: tool,
        input: args,
        callId,
        mapping: this.#toolMapping,
        context,
        execute: true,
        ...(inputError ? { inputError } : {}),
      });
    } else {
      const uri = m.params?.uri;
      if (typeof uri !== "string")
        return this.#gate.refuse("data_access", "resources/read without a string uri", { callId });
      args = { uri };
      decision = await this.#gate.check("data_access", { target: uri, args, callId, context, execute: true });
    }
    // ESCALATE comes back only from a gate without its own approval handler: ask here, then settle.
    if (decision.type !== "escalate") return decision;
    return settle(this.#gate, decision, await this.#ask(approvalRequest(this.#gate, decision, args), tool, m.id));
  }

  async #ask(request: ApprovalRequest, tool: string | undefined, relatedId: RequestId): Promise<AskResult> {
    const timeoutMs = this.#opts.approvalTimeoutMs ?? 300_000;
    if (this.#canElicit) return this.#elicit(request, tool, relatedId, timeoutMs);
    if (this.#opts.approvalHandler) return askHandler(this.#opts.approvalHandler, request, timeoutMs);
    return { failure: NO_APPROVER };
  }

  /** Asks the client's user through `elicitation/create`; the user is the approver. */
  async #elicit(
    request: ApprovalRequest,
    tool: string | undefined,
    relatedId: RequestId,
    timeoutMs: number,
  ): Promise<AskResult> {
    // Unguessable: the upstream server also sends requests to the client, and a reply to one of
    // its own elicitations must never be taken for the answer to this one.
    const id = `agentgate-approval-${randomUUID()}`;
    const message = approvalMessage({
      server: this.serverName,
      ...(tool !== undefined ? { tool } : {}),
      action: request.action,
      ...(request.target !== undefined ? { target: request.target } : {}),
      args: request.args,
      reason: request.reason,
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const response = new Promise<Msg | "timeout">((resolve) => {
      this.#own.set(key(id), resolve);
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    try {
      await this.#send(
        "client",
        {
          jsonrpc: "2.0",
          id,
          method: "elicitation/create",
          params: { message, requestedSchema: { type: "object", properties: {} } },
        },
        relatedId,
      );
      const r = await response;
      if (r === "timeout") {
        void this.#send(
          "client",
          {
            jsonrpc: "2.0",
            method: "notifications/cancelled",
            params: { requestId: id, reason: "approval timed out" },
          },
          relatedId,
        );
        return { failure: `approval timed out (no answer to the approval request within ${timeoutMs} ms)` };
      }
      if (r.error) return { failure: `the client could not ask its user: ${clip(String(r.error.message ?? "error"))}` };
      const action = r.result?.action;
      const approvedBy = `user of MCP client ${JSON.stringify(this.#clientName)}`;
      if (action === "accept") return { answer: { approved: true, approvedBy } };
      return {
        answer: {
          approved: false,
          approvedBy,
          reason:
            action === "decline"
              ? "declined in the MCP client"
              : "the approval request was dismissed in the MCP client",
        },
      };
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      this.#own.delete(key(id));
    }
  }

  #denial(m: Msg, decision: Decision): JSONRPCMessage {
    const reason = deniedToolResult(decision).reason;
    if (m.method === "tools/call") {
      return {
        jsonrpc: "2.0",
        id: m.id,
        result: { content: [{ type: "text", text: `AgentGate denied this call: ${reason}` }], isError: true },
      };
    }
    return {
      jsonrpc: "2.0",
      id: m.id,
      error: {
        code: DENIED_ERROR_CODE,
        message: `AgentGate denied ${m.method}: ${reason}`,
        data: { decision: decision.type, code: decision.code },
      },
    };
  }

  async #send(to: "client" | "server", m: JSONRPCMessage, relatedOrExtra?: unknown): Promise<void> {
    try {
      if (to === "client") await this.#links.toClient(m, relatedOrExtra as RequestId | undefined);
      else await this.#links.toServer(m, relatedOrExtra);
    } catch (error) {
      // A request the server cannot be sent gets an error now, never a hang. Other send failures
      // (a closed client) are for the transport's onclose; a send must never crash the host.
      const r = m as Msg;
      if (to === "server" && typeof r.method === "string" && r.id !== undefined) {
        this.#forwarded.delete(key(r.id));
        const why = error instanceof Error ? error.message : String(error);
        await this.#send(
          "client",
          {
            jsonrpc: "2.0",
            id: r.id,
            error: {
              code: UPSTREAM_GONE_ERROR_CODE,
              message: `AgentGate MCP proxy: the upstream MCP server could not be reached: ${clip(why)}`,
            },
          },
          r.id,
        );
      }
    }
  }
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
