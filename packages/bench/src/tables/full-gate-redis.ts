/** Table 2's Redis rows: `RedisStore` beside `RateLimiterRedis.consume()` on one Redis, and exact admission. */
import { AgentIdentity, GateKeeper, PermissionPolicy } from "@agentgate/core";
import { limitedPolicy } from "../fixture.ts";
import { fmtOps, fmtRatio, fmtUs, medianLoad, runLoad, summarize, table, type LoadResult } from "../harness.ts";
import { log, QUICK, type TargetCheck } from "../result.ts";

export interface RedisContext {
  targets: TargetCheck[];
  redisData: Record<string, unknown>;
  /** A limit the run never reaches. */
  high: number;
}

export async function redisSection(
  url: string,
  mod: typeof import("@agentgate/redis"),
  { targets, redisData, high: HIGH }: RedisContext,
): Promise<string[]> {
  const { Redis } = await import("ioredis");
  const { RateLimiterRedis } = await import("rate-limiter-flexible");
  const runId = `${process.pid}-${Date.now()}`;
  const prefix = `agentgate-bench-${runId}:`;
  const rlfPrefix = `rlf-bench-${runId}`;
  const gateClient = new Redis(url, { lazyConnect: false });
  const rlfClient = new Redis(url, { lazyConnect: false });
  const store = new mod.RedisStore({ client: gateClient, prefix });
  const info = String(await gateClient.info("server"));
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? "?";
  const limitedHigh = new PermissionPolicy(limitedPolicy(HIGH));

  // Fresh agent (fresh keys) per round keeps each sliding-window set small.
  const gateOp = async (policy: PermissionPolicy) => {
    const g = new GateKeeper({ identity: await AgentIdentity.create("bench-agent"), policy, store });
    let wrong = 0;
    const op = async () => {
      const d = await g.check("llm_call");
      if (d.type !== "allow") wrong++;
    };
    return { op, wrong: () => wrong };
  };
  const rlfOp = (points: number, round: string) => {
    const limiter = new RateLimiterRedis({ storeClient: rlfClient, points, duration: 60, keyPrefix: rlfPrefix });
    let wrong = 0;
    const op = async () => {
      try {
        await limiter.consume(`bench-agent-${round}`);
      } catch {
        wrong++;
      }
    };
    return { op, wrong: () => wrong };
  };

  // On a server this run started (nobody else's stats to reset): Redis's own count and time per check.
  const ownServer = process.env.AGENTGATE_BENCH_OWN_REDIS === "1";
  const statsClient = ownServer ? new Redis(url) : undefined;
  const server: Record<string, { commands: number[]; usec: number[] }> = {};
  const serverStats = async (key: string, calls: number, run: () => Promise<LoadResult>): Promise<LoadResult> => {
    if (!statsClient) return run();
    await statsClient.config("RESETSTAT");
    const r = await run();
    const text = String(await statsClient.info("commandstats"));
    let commands = 0;
    let usec = 0;
    for (const m of text.matchAll(/^cmdstat_(\w+):calls=(\d+),usec=(\d+)/gm)) {
      if (m[1] === "info" || m[1] === "config") continue;
      commands += Number(m[2]); // scripts count once, plus every redis.call inside them
      // A script's own time already includes the commands it runs.
      if (m[1] === "evalsha" || m[1] === "eval" || m[1] === "fcall" || m[1] === "evalsha_ro" || m[1] === "eval_ro")
        usec += Number(m[3]);
    }
    const entry = (server[key] ??= { commands: [], usec: [] });
    entry.commands.push(commands / calls);
    entry.usec.push(usec / calls);
    return r;
  };
  const rounds = QUICK ? 2 : 7;
  const counts: Record<number, number> = { 1: QUICK ? 300 : 2_000, 50: QUICK ? 1_000 : 10_000 };
  const load: Record<string, LoadResult[]> = {};
  for (let round = -1; round < rounds; round++) {
    // Round -1 is the warm-up (connections, script loading, JIT).
    for (const concurrency of [1, 50]) {
      const order = round % 2 === 0 ? ["gate", "rlf"] : ["rlf", "gate"];
      for (const which of order) {
        const runner = which === "gate" ? await gateOp(limitedHigh) : rlfOp(HIGH, `${round}-${concurrency}`);
        const r = await serverStats(`${which}-${concurrency}`, counts[concurrency]!, () =>
          runLoad(runner.op, counts[concurrency]!, concurrency),
        );
        if (runner.wrong() > 0)
          throw new Error(`${which}: ${runner.wrong()} calls were refused during a throughput round (Redis failing?)`);
        if (round >= 0) (load[`${which}-${concurrency}`] ??= []).push(r);
      }
    }
    log(`  redis round ${round + 1}/${rounds}`);
  }
  const m = Object.fromEntries(Object.entries(load).map(([k, v]) => [k, medianLoad(v)]));
  Object.assign(redisData, m);

  // Exact admission: 1000 calls at concurrency 50 against a limit of 100.
  const limit = 100;
  const attempts = 1_000;
  const g = new GateKeeper({
    identity: await AgentIdentity.create("bench-agent"),
    policy: new PermissionPolicy(limitedPolicy(limit)),
    store,
  });
  let gateAllowed = 0;
  await runLoad(
    async () => {
      if ((await g.check("llm_call")).type === "allow") gateAllowed++;
    },
    attempts,
    50,
  );
  const rlf = rlfOp(limit, "admission");
  await runLoad(rlf.op, attempts, 50);
  const rlfAllowed = attempts - rlf.wrong();

  // Clean up this run's keys (the server may be shared).
  for (const p of [prefix, rlfPrefix]) {
    let cursor = "0";
    do {
      const [next, keys] = await gateClient.scan(cursor, "MATCH", `${p}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await gateClient.del(...keys);
    } while (cursor !== "0");
  }
  store.close?.();
  gateClient.disconnect();
  rlfClient.disconnect();
  statsClient?.disconnect();

  const serverCell = (key: string) => {
    const e = server[key];
    if (!e) return ["", ""];
    return [summarize(e.commands).median.toFixed(2), fmtUs(summarize(e.usec).median)];
  };
  const row = (label: string, key: string) => {
    const r = m[key]!;
    return [label, String(r.concurrency), fmtOps(r.opsPerSec), fmtUs(r.p50Us), fmtUs(r.p99Us), ...serverCell(key)];
  };
  redisData.server = server;
  const ratio1 = m["gate-1"]!.p50Us / m["rlf-1"]!.p50Us;
  const ratio50 = m["gate-50"]!.p50Us / m["rlf-50"]!.p50Us;
  targets.push(
    {
      name: "`RedisStore` check vs `RateLimiterRedis.consume()`, p50 at concurrency 1 and 50",
      target: "≤ 1.2× at both",
      measured: `${fmtRatio(ratio1)} (${fmtUs(m["gate-1"]!.p50Us)} vs ${fmtUs(m["rlf-1"]!.p50Us)}); at concurrency 50: ${fmtRatio(ratio50)}`,
      met: ratio1 <= 1.2 && ratio50 <= 1.2,
    },
    {
      name: "`RedisStore` exact admission at concurrency 50",
      target: `exactly ${limit} of ${attempts}`,
      measured: `${gateAllowed} admitted`,
      met: gateAllowed === limit,
    },
  );
  redisData.admission = { limit, attempts, gateAllowed, rlfAllowed };
  return [
    "### Redis",
    "",
    `One local redis-server ${version} (127.0.0.1, no persistence). \`gate.check("llm_call")\` with \`RedisStore\` (one Lua script per check: sliding-window log and reservation; a usage count only for rules with \`deny_after\`/\`escalate_after\`; this rate-only rule sends 1 key and 4 arguments and gets an integer back; checks in flight together travel in pipelines of at most 16, each still its own script) beside \`RateLimiterRedis.consume()\` (fixed-window counter, one Lua script), each on its own ioredis client. Every call in the timed rounds had to be admitted; ${rounds} rounds after a warm-up round, order alternating, median of each column.`,
    "",
    table(
      [
        "case",
        "concurrency",
        "throughput",
        "p50",
        "p99",
        "commands per check (script + its calls)",
        "script time in Redis per check",
      ],
      [
        row("`gate.check` + `RedisStore`", "gate-1"),
        row("`RateLimiterRedis.consume()`", "rlf-1"),
        row("`gate.check` + `RedisStore`", "gate-50"),
        row("`RateLimiterRedis.consume()`", "rlf-50"),
      ],
    ),
    "",
    `p50 ratio, RedisStore / rate-limiter-flexible: **${fmtRatio(ratio1)}** at concurrency 1, **${fmtRatio(ratio50)}** at concurrency 50.${ownServer ? " The last two columns come from the server's own \`INFO commandstats\` (reset before each round): how many commands one check runs (the script itself plus each \`redis.call\` inside it), and how long Redis spends in the script." : ""}`,
    "",
    `Exact admission: ${attempts} calls at concurrency 50 against a limit of ${limit} per minute: \`RedisStore\` admitted **${gateAllowed}**, \`RateLimiterRedis\` admitted **${rlfAllowed}**.`,
    "Static decisions (rules without limits) never reach the store, so with `RedisStore` they cost what they cost in memory.",
  ];
}
