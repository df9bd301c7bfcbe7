import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A throwaway `redis-server` child on 127.0.0.1, without persistence. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Stops it (SIGKILL by default: a crash, not a clean shutdown). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** The directory it runs in (`--dir`: RDB / AOF files, nodes.conf). */
  readonly dir: string;
  /** Starts it again on the same port (and directory: persisted data comes back). */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: alive but not answering. */
  pause(): void;
  resume(): void;
  /** Stops it for good and removes its directory. */
  dispose(): Promise<void>;
}

export function hasRedisServer(): boolean {
  return spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves when something on `port` answers PING with PONG; rejects after `timeoutMs`. */
export async function waitForPong(port: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect(port, "127.0.0.1");
      let buf = "";
      const done = (v: boolean) => {
        sock.destroy();
        resolve(v);
      };
      sock.setTimeout(500, () => done(false));
      sock.once("error", () => done(false));
      sock.once("connect", () => sock.write("PING\r\n"));
      sock.on("data", (d) => {
        buf += d.toString();
        if (buf.includes("\r\n")) done(buf.startsWith("+PONG"));
      });
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function launch(port: number, dir: string, extra: readonly string[]): ChildProcess {
  const child = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--daemonize",
      "no",
      "--dir",
      dir,
      "--loglevel",
      "warning",
      ...extra,
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  child.on("error", () => {});
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/**
 * Starts `redis-server` on `port` (a free one when left out). `extra` are more
 * command-line settings (`["--maxmemory-policy", "volatile-lru"]`); a function
 * gets the chosen port (for settings that name other ports).
 */
export async function startRedisServer(
  port?: number,
  extra: readonly string[] | ((port: number) => readonly string[]) = [],
): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), "agentgate-redis-"));
  for (let attempt = 0; ; attempt++) {
    const p = port ?? (await freePort());
    const args = typeof extra === "function" ? extra(p) : extra;
    let child = launch(p, dir, args);
    try {
      await Promise.race([
        waitForPong(p),
        exited(child).then(() => {
          throw new Error(`redis-server exited at start on port ${p}`);
        }),
      ]);
    } catch (error) {
      child.kill("SIGKILL");
      if (port === undefined && attempt < 3) continue;
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    const server: RedisServer = {
      port: p,
      dir,
      url: `redis://127.0.0.1:${p}`,
      async stop(signal = "SIGKILL") {
        child.kill("SIGCONT");
        child.kill(signal);
        await exited(child);
      },
      async restart() {
        await server.stop();
        child = launch(p, dir, args);
        await waitForPong(p);
      },
      pause: () => void child.kill("SIGSTOP"),
      resume: () => void child.kill("SIGCONT"),
      async dispose() {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
    process.once("exit", () => child.kill("SIGKILL"));
    return server;
  }
}
