import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** A Redis for the shared-limit tests (AGENTGATE_REDIS_URL or our own redis-server), or null. */
    redisUrl: string | null;
  }
}

const root = fileURLToPath(new URL("../..", import.meta.url));

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (!/\.test(-d)?\.ts$/.test(e.name)) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The tests run the built `dist/bin.js` as a child process: build it when stale. Then find a Redis. */
export default async function setup(project: TestProject): Promise<() => void> {
  let built = 0;
  try {
    built = statSync(join(root, "dist/bin.js")).mtimeMs;
  } catch {
    // not built yet
  }
  if (built < newest(join(root, "src"))) {
    execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], {
      cwd: root,
      stdio: "inherit",
    });
  }
  let url = process.env.AGENTGATE_REDIS_URL || null;
  let child: ChildProcess | undefined;
  if (url === null && spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0) {
    const port = await freePort();
    child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    });
    for (let i = 0; i < 50; i++) {
      if (spawnSync("redis-cli", ["-p", String(port), "ping"], { encoding: "utf8" }).stdout?.trim() === "PONG") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    url = `redis://127.0.0.1:${port}`;
  }
  if (url === null)
    console.warn(
      "[@agentgate/mcp] no Redis (AGENTGATE_REDIS_URL unset, redis-server missing): the shared-limit test is skipped",
    );
  project.provide("redisUrl", url);
  return () => {
    child?.kill("SIGKILL");
  };
}
