import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string | null;
    chromium: string | null;
  }
}

const root = fileURLToPath(new URL("../..", import.meta.url));
export const CHROMIUM = "/usr/bin/chromium";

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (!/\.test(-d)?\.ts$/.test(e.name)) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function ping(port: number): Promise<boolean> {
  const { Redis } = await import("ioredis");
  const c = new Redis({
    port,
    host: "127.0.0.1",
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  c.on("error", () => {});
  try {
    await c.connect();
    return (await c.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    c.disconnect();
  }
}

/**
 * A Redis of our own (or AGENTGATE_REDIS_URL), this package built for the
 * agent child processes, and the system Chromium. In CI (CI=1) a missing
 * Redis or Chromium fails the run instead of skipping.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const required = process.env.CI === "1" || process.env.AGENTGATE_REQUIRE_REDIS === "1";
  let built = 0;
  try {
    built = statSync(join(root, "dist/index.js")).mtimeMs;
  } catch {
    // not built
  }
  if (built < newest(join(root, "src"))) {
    execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], {
      cwd: root,
      stdio: "inherit",
    });
  }
  let url: string | null = process.env.AGENTGATE_REDIS_URL || null;
  let stop = async () => {};
  if (url === null && spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "agentgate-approvals-redis-"));
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
        "--dir",
        dir,
        "--loglevel",
        "warning",
      ],
      { stdio: "ignore" },
    );
    for (let i = 0; i < 100 && !(await ping(port)); i++) await new Promise((r) => setTimeout(r, 50));
    url = `redis://127.0.0.1:${port}`;
    stop = async () => {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    };
  }
  const chromium = existsSync(CHROMIUM) ? CHROMIUM : null;
  if (required && (url === null || chromium === null)) {
    await stop();
    throw new Error(
      `CI needs ${url === null ? "redis-server" : "chromium"} for the approvals tests (.ci/run installs both)`,
    );
  }
  if (url === null) console.warn("[@agentgate/approvals] no Redis: skipping Redis tests");
  if (chromium === null) console.warn("[@agentgate/approvals] no /usr/bin/chromium: skipping browser tests");
  project.provide("redisUrl", url);
  project.provide("chromium", chromium);
  return stop;
}
