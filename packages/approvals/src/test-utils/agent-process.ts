import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Decision } from "@agentgate/core";

const SCRIPT = fileURLToPath(new URL("./agent.mjs", import.meta.url));

/** An agent process: `call(tool)` sends one tool call; `next()` is its next decision. */
export interface AgentProcess {
  agentId: string;
  call(tool: string, note?: string): void;
  next(timeoutMs?: number): Promise<Decision>;
  stop(): Promise<void>;
}

export async function startAgent(options: {
  redisUrl: string;
  prefix: string;
  name?: string;
  timeoutMs?: number;
}): Promise<AgentProcess> {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [SCRIPT], {
    env: {
      ...process.env,
      REDIS_URL: options.redisUrl,
      PREFIX: options.prefix,
      AGENT_NAME: options.name ?? "deploy-bot",
      TIMEOUT_MS: String(options.timeoutMs ?? 30_000),
    },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  let buf = "";
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
  child.stdout.setEncoding("utf8").on("data", (c: string) => {
    buf += c;
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiters.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  const nextLine = (timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      const l = lines.shift();
      if (l !== undefined) return resolve(l);
      const timer = setTimeout(
        () => reject(new Error(`agent said nothing within ${timeoutMs} ms; stderr: ${err}`)),
        timeoutMs,
      );
      waiters.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
  const ready = JSON.parse(await nextLine(20_000)) as { agentId: string };
  return {
    agentId: ready.agentId,
    call: (tool, note = "") => child.stdin.write(`${tool} ${note}\n`),
    next: async (timeoutMs = 20_000) => JSON.parse(await nextLine(timeoutMs)) as Decision,
    stop: async () => {
      const closed = new Promise((r) => child.once("close", r));
      child.stdin.end();
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await closed;
      clearTimeout(t);
    },
  };
}
