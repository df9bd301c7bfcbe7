import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { GateKeeper, type AuditSink } from "@agentgate/core";
import { JsonlAuditSink } from "@agentgate/core/node";
import { RedisStore } from "@agentgate/redis";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { Redis } from "ioredis";
import { GateSession, type McpGateOptions } from "./gate-session.js";
import { inboxApprovalHandler, INBOX_GRACE_MS } from "./inbox.js";
import { loadProxyIdentity, loadProxyMapping, loadProxyPolicy } from "./proxy-config.js";
import type { ProxyArgs } from "./proxy-args.js";

/** A running proxy: `done` resolves with the exit code once it has stopped. */
export interface RunningProxy {
  gate: GateKeeper;
  /** With `--listen`: the bound address (port 0 picks a free one). */
  url?: URL;
  done: Promise<number>;
  close(exitCode?: number): Promise<void>;
}

/** Exit code when the upstream server exits or crashes under the proxy. */
export const EXIT_UPSTREAM_GONE = 1;

/**
 * Starts the proxy: loads policy, mapping and identity (refusing bad files),
 * connects the store and the audit log, then serves stdio (default) or
 * Streamable HTTP. Logs go to `log` (stderr), never to stdout.
 */
export async function startProxy(
  args: ProxyArgs,
  log: (line: string) => void,
  /**
   * Answers escalations from clients without elicitation. Default with `--store`: the approvals
   * inbox (`waitForApproval` from `@agentgate/approvals`, answered in `agentgate serve`).
   */
  extra: Pick<McpGateOptions, "approvalHandler"> = {},
): Promise<RunningProxy> {
  const opened: Opened = {};
  try {
    return await start(args, log, extra, opened);
  } catch (error) {
    // A proxy that cannot start must end: an open Redis connection or audit lock would keep the process alive.
    await opened.gate?.close().catch(() => {});
    opened.store?.close();
    opened.redis?.disconnect();
    throw error;
  }
}

interface Opened {
  gate?: GateKeeper;
  redis?: Redis;
  store?: RedisStore;
}

async function start(
  args: ProxyArgs,
  log: (line: string) => void,
  extra: Pick<McpGateOptions, "approvalHandler">,
  opened: Opened,
): Promise<RunningProxy> {
  const policy = loadProxyPolicy(args.policy);
  const mapping = args.mapping !== undefined ? loadProxyMapping(args.mapping) : {};
  const { identity, generated } = await loadProxyIdentity(args.identity);
  log(
    `agent ${JSON.stringify(identity.name)} id ${identity.id}${generated ? " (generated for this run; pass --identity agent.json to keep one)" : ""}`,
  );
  let redis: Redis | undefined;
  let store: RedisStore | undefined;
  if (args.store !== undefined) {
    redis = new Redis(args.store, { lazyConnect: false, maxRetriesPerRequest: 1 });
    // ioredis reports every reconnect attempt: log a problem once, not once per retry.
    let last = "";
    redis.on("error", (e: Error) => {
      if (e.message !== last)
        log(`store: ${(last = e.message)} (calls that need the store are denied until it is back)`);
    });
    redis.on("ready", () => {
      if (last !== "") log("store: connected again");
      last = "";
    });
    store = new RedisStore({ client: redis });
    Object.assign(opened, { redis, store });
  }
  const approvalHandler =
    extra.approvalHandler ?? (store ? await inboxApprovalHandler(store, args.approvalTimeoutMs) : undefined);
  if (approvalHandler && !extra.approvalHandler)
    log("clients without elicitation wait for an answer in the approval inbox (agentgate serve on the same --store)");
  const sinks: AuditSink[] = [];
  if (args.audit !== undefined) {
    sinks.push(
      new JsonlAuditSink(args.audit, {
        onWarning: (m) => log(`audit: ${m}`),
        ...(identity.algorithm === "Ed25519" ? { signer: identity } : {}),
      }),
    );
  }
  // The gate asks the session that is checking the call: the gate then applies the timeout and
  // settles the escalation itself (approval_timeout, approval_error), releasing held limits.
  const sessions = new Set<GateSession>();
  const gate = new GateKeeper({
    identity,
    policy,
    approvalHandler: (request) => {
      for (const s of sessions) if (s.owns(request.callId)) return s.approve(request);
      throw new Error("the MCP session of this call is gone");
    },
    // With the inbox the session times the wait (saying "approval timed out"); the gate's timer is a backstop.
    approvalTimeoutMs: args.approvalTimeoutMs + (approvalHandler && !extra.approvalHandler ? INBOX_GRACE_MS : 0),
    auditSinks: sinks,
    onAuditError: (e) => log(`audit write failed: ${(e as Error).message}`),
    // The store is the grant store too: "Approve for 1 hour" in the inbox lets the next matching call through.
    ...(store ? { store, grants: store } : {}),
  });
  opened.gate = gate;
  const options: McpGateOptions = {
    mapping,
    showDenied: args.showDenied,
    approvalTimeoutMs: args.approvalTimeoutMs,
    ...(approvalHandler ? { approvalHandler } : {}),
  };

  let finish!: (code: number) => void;
  const done = new Promise<number>((resolve) => (finish = resolve));
  const links = new Set<() => Promise<void>>();
  let stopping = false;
  let http: HttpServer | undefined;
  const close = async (code = 0) => {
    if (stopping) return;
    stopping = true;
    await Promise.allSettled([...links].map((c) => c()));
    await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
    await gate.close().catch((e: Error) => log(`audit close failed: ${e.message}`));
    // The store's second connection (settle events the inbox wait listens to) ends with it.
    store?.close();
    redis?.disconnect();
    finish(code);
  };

  const upstream = (): Transport => {
    if ("url" in args.upstream) return new StreamableHTTPClientTransport(args.upstream.url);
    const t = new StdioClientTransport({
      command: args.upstream.command,
      args: args.upstream.args,
      env: process.env as Record<string, string>,
      stderr: "inherit",
    });
    return t;
  };

  /** Joins one downstream transport to a fresh upstream connection through a gate session. */
  const link = async (down: Transport, onEnd?: () => void): Promise<() => Promise<void>> => {
    const up = upstream();
    let ending = false;
    const session = new GateSession(gate, options, {
      toClient: (m, relatedRequestId) =>
        down.send(m, relatedRequestId !== undefined ? { relatedRequestId } : undefined),
      toServer: (m) => up.send(m),
    });
    sessions.add(session);
    const end = async () => {
      if (ending) return;
      ending = true;
      links.delete(end);
      sessions.delete(session);
      await Promise.allSettled([up.close(), down.close()]);
      onEnd?.();
    };
    links.add(end);
    down.onmessage = (m, extra) => session.fromClient(m, extra);
    up.onmessage = (m) => session.fromServer(m);
    up.onerror = (e) => log(`upstream: ${e.message}`);
    down.onerror = (e) => log(`client transport: ${e.message}`);
    up.onclose = () => {
      if (ending) return;
      const n = session.serverClosed(
        `the upstream MCP server ${JSON.stringify(session.serverName)} exited or closed the connection`,
      );
      log(
        `the upstream server exited or closed the connection (${n} request${n === 1 ? "" : "s"} failed); stopping with exit code ${EXIT_UPSTREAM_GONE}`,
      );
      // Give the error responses a moment to reach the client before the process ends.
      setTimeout(() => void close(EXIT_UPSTREAM_GONE), 100);
    };
    down.onclose = () => void end();
    try {
      await up.start();
    } catch (error) {
      ending = true;
      links.delete(end);
      sessions.delete(session);
      throw new Error(`cannot start the upstream MCP server: ${(error as Error).message}`);
    }
    if (up instanceof StdioClientTransport) log(`upstream started (pid ${up.pid})`);
    return end;
  };

  if (args.listen === undefined) {
    const down = new StdioServerTransport();
    await link(down, () => void close(0));
    await down.start();
    // The SDK's stdio transport does not notice end of input: the client closing stdin ends the proxy.
    process.stdin.once("end", () => void close(0));
    return { gate, done, close };
  }

  const { host, port } = args.listen;
  const loopback = host === "127.0.0.1" || host === "localhost" || host === "::1";
  const httpSessions = new Map<string, StreamableHTTPServerTransport>();
  const allowedHosts = (p: number) => [`127.0.0.1:${p}`, `localhost:${p}`, `[::1]:${p}`];
  let bound = port;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path !== "/mcp")
      return void res.writeHead(404, { "content-type": "text/plain" }).end("not found: the MCP endpoint is /mcp\n");
    const sid = req.headers["mcp-session-id"];
    if (typeof sid === "string") {
      const t = httpSessions.get(sid);
      if (!t) return void jsonError(res, 404, "unknown or ended session; initialize again");
      return void (await t.handleRequest(req, res));
    }
    if (req.method !== "POST") return void jsonError(res, 400, "no session: start with a POST of initialize");
    // Read the body first: only an initialize request starts an upstream (a stray POST must not spawn processes).
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch (error) {
      return void jsonError(res, 400, `the body is not JSON: ${(error as Error).message}`);
    }
    if (!(Array.isArray(body) ? body.some(isInitializeRequest) : isInitializeRequest(body)))
      return void jsonError(res, 400, "no session: start with a POST of initialize");
    // Each session runs its own upstream (a process for a command): bound them.
    if (links.size >= args.maxSessions)
      return void jsonError(res, 503, `too many open sessions (--max-sessions ${args.maxSessions}); close one first`);
    const t = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (id) => void httpSessions.set(id, t),
      // DNS rebinding: a web page must not reach a loopback proxy through a name it controls.
      ...(loopback ? { enableDnsRebindingProtection: true, allowedHosts: allowedHosts(bound) } : {}),
    });
    let end: () => Promise<void>;
    try {
      end = await link(t, () => {
        if (t.sessionId) httpSessions.delete(t.sessionId);
      });
    } catch (error) {
      log((error as Error).message);
      return void jsonError(res, 502, (error as Error).message);
    }
    await t.handleRequest(req, res, body);
    if (t.sessionId === undefined) await end(); // refused (e.g. a foreign Host header): nothing to keep
  };
  http = createServer((req, res) => {
    handle(req, res).catch((error: Error) => {
      log(`http: ${error.message}`);
      if (!res.headersSent) jsonError(res, 500, "internal error");
    });
  });
  await new Promise<void>((resolve, reject) => {
    http!.once("error", reject);
    http!.listen(port, host, () => resolve());
  });
  bound = (http.address() as AddressInfo).port;
  const url = new URL(`http://${host.includes(":") ? `[${host}]` : host}:${bound}/mcp`);
  log(`listening on ${url.href}`);
  return { gate, url, done, close };
}

const MAX_BODY = 4 * 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new Error(`larger than ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function jsonError(res: ServerResponse, status: number, message: string): void {
  res
    .writeHead(status, { "content-type": "application/json" })
    .end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }));
}
