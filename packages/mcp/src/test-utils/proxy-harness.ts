import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client, type ClientOptions } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
export const BIN = join(root, "dist/bin.js");
export const FILESYSTEM_SERVER = join(root, "node_modules/@modelcontextprotocol/server-filesystem/dist/index.js");
export const EVERYTHING_SERVER = join(root, "node_modules/@modelcontextprotocol/server-everything/dist/index.js");

/** A temporary folder with files; `cleanup()` removes it. */
export function tempDir(prefix = "agentgate-mcp-"): {
  dir: string;
  write(name: string, text: string): string;
  cleanup(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    write: (name, text) => {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface StdioProxy {
  client: Client;
  transport: StdioClientTransport;
  /** Everything the proxy (and its upstream) wrote to stderr so far. */
  stderr(): string;
  close(): Promise<void>;
}

/** Starts `agentgate-mcp <args>` as a child process and connects a real SDK client to it over stdio. */
export async function connectStdio(
  args: string[],
  clientOptions: ClientOptions = {},
  env: Record<string, string> = {},
): Promise<StdioProxy> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, ...args],
    stderr: "pipe",
    env: { ...(process.env as Record<string, string>), ...env },
  });
  let err = "";
  transport.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const client = new Client({ name: "agentgate-test-client", version: "1.0.0" }, clientOptions);
  try {
    await client.connect(transport);
  } catch (error) {
    throw new Error(`proxy did not start: ${(error as Error).message}\n${err}`);
  }
  return { client, transport, stderr: () => err, close: () => client.close() };
}

export interface ChildProxy {
  child: ChildProcess;
  stderr(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Resolves when stderr has a line matching `re`, with the match. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  kill(): void;
}

/** Starts `agentgate-mcp <args>` as a plain child process (for `--listen` and start-up failures). */
export function spawnProxy(args: string[], env: Record<string, string> = {}): ChildProxy {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let err = "";
  const waiters = new Set<() => void>();
  child.stderr!.on("data", (d: Buffer) => {
    err += d.toString();
    for (const w of waiters) w();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    stderr: () => err,
    exited,
    kill: () => child.kill("SIGTERM"),
    waitFor: (re, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = err.match(re);
          if (m) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(m);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${re} in proxy stderr:\n${err}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
  };
}

/** Starts the proxy with `--listen 127.0.0.1:0` and connects a client over Streamable HTTP. */
export async function connectHttp(
  args: string[],
  clientOptions: ClientOptions = {},
): Promise<{ client: Client; proxy: ChildProxy; url: URL; close(): Promise<void> }> {
  const proxy = spawnProxy(["--listen", "127.0.0.1:0", ...args]);
  const [, href] = await proxy.waitFor(/listening on (http:\/\/\S+)/);
  const url = new URL(href!);
  const client = new Client({ name: "agentgate-test-http-client", version: "1.0.0" }, clientOptions);
  await client.connect(new StreamableHTTPClientTransport(url));
  return {
    client,
    proxy,
    url,
    close: async () => {
      await client.close();
      proxy.kill();
      await proxy.exited;
    },
  };
}

/** The text of a tool result's first content block. */
export function text(result: unknown): string {
  const c = (result as { content?: { type: string; text?: string }[] }).content?.[0];
  return c?.type === "text" ? (c.text ?? "") : "";
}
