import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { AgentIdentity, PolicyConfig } from "@agentgate/core";

const script = fileURLToPath(new URL("./worker.ts", import.meta.url));

/** A worker process (see `worker.ts`): `send` a command, get its result. */
export interface Worker {
  readonly pid: number;
  send<T = unknown>(command: Record<string, unknown>): Promise<T>;
  /** Creates a gate for `identity` and `policy` in the worker; commands name it with `gate`. */
  setup(
    gate: string,
    identity: AgentIdentity,
    policy: PolicyConfig,
    options?: { approver?: { name: string; delayMs: number } },
  ): Promise<void>;
  /** Closes stdin and waits for a clean exit. */
  exit(): Promise<number | null>;
  kill(): void;
}

export interface WorkerOptions {
  entry: string;
  redisUrl: string;
  prefix: string;
  /** A Redis Cluster's primaries: the worker connects with ioredis' `Cluster` instead. */
  cluster?: { host: string; port: number }[];
}

export async function spawnWorker(o: WorkerOptions): Promise<Worker> {
  const child: ChildProcess = spawn(process.execPath, ["--experimental-strip-types", script], {
    cwd: fileURLToPath(new URL("../..", import.meta.url)),
    env: {
      ...process.env,
      ENTRY: o.entry,
      AGENTGATE_REDIS_URL: o.redisUrl,
      PREFIX: o.prefix,
      ...(o.cluster ? { CLUSTER_NODES: JSON.stringify(o.cluster) } : {}),
      NODE_NO_WARNINGS: "1",
    },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let onReady: (() => void) | undefined;
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    void exited.then((code) => reject(new Error(`worker exited (${code}) before it was ready`)));
  });
  void exited.then((code) => {
    for (const w of waiting.values()) w.reject(new Error(`worker exited (${code})`));
    waiting.clear();
  });
  createInterface({ input: child.stdout! }).on("line", (line) => {
    const msg = JSON.parse(line) as { ready?: boolean; id?: number; result?: unknown; error?: string };
    if (msg.ready) return onReady?.();
    const w = waiting.get(msg.id!);
    if (!w) return;
    waiting.delete(msg.id!);
    if (msg.error !== undefined) w.reject(new Error(`worker: ${msg.error}`));
    else w.resolve(msg.result);
  });
  await ready;
  const send = <T>(command: Record<string, unknown>) => {
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.stdin!.write(`${JSON.stringify({ ...command, id })}\n`);
    });
  };
  return {
    pid: child.pid!,
    send,
    async setup(gate, identity, policy, options = {}) {
      await send({ op: "setup", gate, identity: JSON.stringify(identity.export()), policy, ...options });
    },
    exit() {
      child.stdin!.end();
      return exited;
    },
    kill() {
      child.kill("SIGKILL");
    },
  };
}
