import { MemoryStore, type GateStore } from "@agentgate/core";
import { serve, type ServerType } from "@hono/node-server";
import { createApprovalServer, type ApprovalServer, type ApprovalServerOptions } from "./approval-server.js";

/** Opens `memory` or `redis://HOST:PORT[/DB]` (needs `@agentgate/redis` and `ioredis` installed). */
export async function openStore(spec: string): Promise<{ store: GateStore; close: () => Promise<void> }> {
  if (spec === "memory") return { store: new MemoryStore(), close: async () => {} };
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw new TypeError(`--store must be "memory" or redis://HOST:PORT, not ${JSON.stringify(spec)}`);
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:")
    throw new TypeError(`--store must be "memory" or redis://HOST:PORT, not ${JSON.stringify(spec)}`);
  const [{ Redis }, { RedisStore }] = await Promise.all([import("ioredis"), import("@agentgate/redis")]);
  const client = new Redis(spec, { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    throw new Error(`cannot reach Redis at ${url.host}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const store = new RedisStore({ client });
  return {
    store,
    close: async () => {
      store.close();
      await client.quit().catch(() => client.disconnect());
    },
  };
}

/** Options of {@link startApprovalServer}: the server's, with the store given as a spec or an instance. */
export interface StartApprovalServerOptions extends Omit<ApprovalServerOptions, "store"> {
  store: string | GateStore;
  /** Default 8787; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1 (only this machine). */
  host?: string;
}

export interface RunningApprovalServer {
  url: string;
  server: ApprovalServer;
  store: GateStore;
  close(): Promise<void>;
}

/** Starts the inbox on Node (`@hono/node-server`); `close()` stops it cleanly (connections, timers, Redis). */
export async function startApprovalServer(options: StartApprovalServerOptions): Promise<RunningApprovalServer> {
  const opened =
    typeof options.store === "string"
      ? await openStore(options.store)
      : { store: options.store, close: async () => {} };
  const server = createApprovalServer({ ...options, store: opened.store });
  await server.service.refresh().catch(() => {});
  const host = options.host ?? "127.0.0.1";
  let node: ServerType | undefined;
  try {
    const port = await new Promise<number>((resolve, reject) => {
      node = serve({ fetch: server.fetch, port: options.port ?? 8787, hostname: host }, (info) => resolve(info.port));
      node.once("error", reject);
    });
    const shown = host.includes(":") ? `[${host}]` : host;
    return {
      url: `http://${shown}:${port}`,
      server,
      store: opened.store,
      close: async () => {
        const n = node as (ServerType & { closeAllConnections?: () => void }) | undefined;
        await new Promise<void>((resolve) => {
          n?.close(() => resolve());
          // Open inboxes hold SSE connections: end them so close() finishes.
          n?.closeAllConnections?.();
        });
        await server.close();
        await opened.close();
      },
    };
  } catch (error) {
    await server.close();
    await opened.close();
    throw error;
  }
}
