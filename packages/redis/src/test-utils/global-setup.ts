import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import ts from "typescript";
import type { TestProject } from "vitest/node";
import { hasRedisServer, startRedisServer, type RedisServer } from "./redis-server.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The Redis every test shares, or null when there is none (then tests skip, unless required). */
    redisUrl: string | null;
    /** Why there is no Redis. */
    redisProblem: string | null;
    /** `redis-server` is installed: tests that stop and restart their own Redis can run. */
    redisServerBin: boolean;
    /** This package's build (of the current source) for child processes to import. */
    builtEntry: string;
  }
}

const packageDir = fileURLToPath(new URL("../../", import.meta.url));

async function reachable(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/**
 * Finds a Redis for the tests: `AGENTGATE_REDIS_URL`, else a throwaway
 * `redis-server` of our own. With `AGENTGATE_REQUIRE_REDIS=1`, no Redis is a
 * failure of the whole run. Also builds this package for the child processes.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const required = process.env.AGENTGATE_REQUIRE_REDIS === "1";
  const bin = hasRedisServer();
  let url: string | null = process.env.AGENTGATE_REDIS_URL || null;
  let problem: string | null = null;
  let server: RedisServer | undefined;
  if (url !== null) {
    if (!(await reachable(url))) {
      problem = `AGENTGATE_REDIS_URL=${url} is not reachable`;
      url = null;
    }
  } else if (bin) {
    server = await startRedisServer();
    url = server.url;
  } else {
    problem = "AGENTGATE_REDIS_URL is unset and redis-server is not installed";
  }
  if (required && (url === null || !bin)) {
    await server?.dispose();
    throw new Error(
      `AGENTGATE_REQUIRE_REDIS=1 but ${problem ?? "redis-server is not installed (the outage tests start their own)"}`,
    );
  }
  if (url === null) console.warn(`[@agentgate/redis] skipping Redis tests: ${problem}`);

  // Child processes import this package built from the current source (the
  // same compiler, without the type check `pnpm typecheck` already does).
  const outDir = `${packageDir}node_modules/.agentgate-test-build`;
  build(`${packageDir}src`, outDir);

  project.provide("redisUrl", url);
  project.provide("redisProblem", problem);
  project.provide("redisServerBin", bin);
  project.provide("builtEntry", `${outDir}/index.js`);
  return async () => {
    await server?.dispose();
  };
}

function build(srcDir: string, outDir: string): void {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  for (const file of readdirSync(srcDir)) {
    if (!file.endsWith(".ts") || file.endsWith(".test.ts") || file.endsWith(".test-d.ts")) continue;
    const out = ts.transpileModule(readFileSync(`${srcDir}/${file}`, "utf8"), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2023, verbatimModuleSyntax: true },
    });
    writeFileSync(`${outDir}/${file.replace(/\.ts$/, ".js")}`, out.outputText);
  }
}
