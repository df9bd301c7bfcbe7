/**
 * Table 2: the full gate (`gate.check`: policy, limits, decision object, audit), in memory,
 * with the JSONL audit sink, and with `RedisStore` beside `rate-limiter-flexible` on one Redis.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentIdentity, GateKeeper, PermissionPolicy, type AuditSink, type GateStore } from "@agentgate/core";
import { agtEngine, casbinEngine, cedarEngine, decisionsOf, type Engine } from "../engines.ts";
import { describeRequest, EXPECTED, limitedPolicy, REQUESTS } from "../fixture.ts";
import {
  fmtNs,
  fmtOps,
  fmtRatio,
  fmtUs,
  medianLoad,
  runAsync,
  runLatency,
  runLoad,
  summarize,
  runSync,
  table,
  type AsyncCase,
  type CaseResult,
  type LatencyResult,
  type LoadResult,
} from "../harness.ts";
import { emit, log, QUICK, roundOptions, type TargetCheck } from "../result.ts";
import { optionalImport } from "../optional.ts";

const HIGH = 1_000_000_000; // a limit the run never reaches, so the limited path keeps allowing
const identity = await AgentIdentity.create("bench-agent");
const mixPolicy = new PermissionPolicy(limitedPolicy(HIGH));
const gate = (options: { policy?: PermissionPolicy; auditSinks?: AuditSink[]; store?: GateStore } = {}) =>
  new GateKeeper({
    identity,
    policy: options.policy ?? mixPolicy,
    auditSinks: options.auditSinks ?? [],
    ...(options.store ? { store: options.store } : {}),
  });

const notes: string[] = [];
const sinkData: Record<string, any> = {};
const MIX = "request mix (table 1), limits + audit";
const targets: TargetCheck[] = [];
const sections: string[] = [];

// ------------------------------------------------------------------------------ in memory

const verify = gate();
for (const [i, r] of REQUESTS.entries()) {
  const d = await verify.check(r.action, r.target);
  if ((d.type === "allow") !== EXPECTED[i])
    throw new Error(`gate.check disagrees on ${describeRequest(r)}: ${d.type} (${d.reason})`);
}
log("gate: decisions on the mix verified");

const n = REQUESTS.length;
const gStaticAllow = gate();
const gStaticDeny = gate();
const gLimited = gate();
const gLimitedDeny = gate({ policy: new PermissionPolicy(limitedPolicy(1)) });
await gLimitedDeny.check("llm_call"); // spends the one allowed use: from now on, rate_limit denials
const gMix = gate();
const gToolCall = gate();
const input = { query: "agent permissions" };

const mixOp = (g: GateKeeper) => (i: number) => g.check(REQUESTS[i % n]!.action, REQUESTS[i % n]!.target);
const cases: AsyncCase[] = [
  { name: "static allow (`tool_use search`)", op: () => gStaticAllow.check("tool_use", "search") },
  { name: "static deny (`shell`)", op: () => gStaticDeny.check("shell", "rm -rf /") },
  { name: "limited allow (`llm_call`, max_per_minute)", op: () => gLimited.check("llm_call") },
  { name: "limited deny (rate limit reached)", op: () => gLimitedDeny.check("llm_call") },
  { name: MIX, op: mixOp(gMix) },
  {
    name: "`checkToolCall`, unique callId each call",
    op: (i) => gToolCall.checkToolCall({ toolName: "search", input, callId: `call-${i}` }),
  },
];
const timerOnly: AsyncCase = { name: "*(timer + one await, nothing checked)*", op: () => Promise.resolve() };

log("gate: per-call latency");
const latency = await runLatency([...cases, timerOnly], { rounds: QUICK ? 3 : 11, calls: QUICK ? 5_000 : 20_000 });
log("gate: CPU per check");
const results = await runAsync(cases, roundOptions({ rounds: 21, batchMs: 15 }));
const byName = new Map(results.map((r) => [r.name, r]));
const latByName = new Map(latency.map((r) => [r.name, r]));

// Sanity after timing: the limited gate still allows (never hit its limit), the deny gate still denies.
if ((await gLimited.check("llm_call")).type !== "allow")
  throw new Error("the limited gate stopped allowing during the run");
if ((await gLimitedDeny.check("llm_call")).code !== "rate_limit")
  throw new Error("the rate-limited gate stopped denying");

// The rival engines on the same mix, in this process.
const casbin = await casbinEngine();
const cedar = cedarEngine();
const agt = agtEngine();
for (const e of [casbin, cedar, agt] as Engine[]) {
  if (decisionsOf(e).some((allow, i) => allow !== EXPECTED[i]))
    throw new Error(`${e.name} disagrees with the expected decisions on the mix, nothing timed`);
}
const rivals = runSync(
  ([casbin, cedar, agt] as Engine[]).map((e) => ({ name: e.name, check: e.check, requests: REQUESTS.map(e.prepare) })),
  roundOptions({ rounds: 21, batchMs: 15 }),
);

const mix = byName.get(MIX)!;
const mixLat = latByName.get(MIX)!;
const limited = byName.get("limited allow (`llm_call`, max_per_minute)")!;
const limitedLat = latByName.get("limited allow (`llm_call`, max_per_minute)")!;
const staticLat = latByName.get("static allow (`tool_use search`)")!;
const rows = [...cases, timerOnly].map((c) => {
  const l = latByName.get(c.name)!;
  const r = byName.get(c.name);
  return [
    c.name,
    `**${fmtNs(l.p50Ns.median)}**`,
    fmtNs(l.p99Ns.median),
    r ? fmtNs(r.nsPerOp.median) : "",
    r ? fmtNs(r.wallNsPerOp.median) : "",
  ];
});
for (const r of rivals) {
  rows.push([`*${r.name}* (same mix, for reference)`, "", "", fmtNs(r.nsPerOp.median), fmtNs(r.wallNsPerOp.median)]);
}

// ------------------------------------------------------------------------------ JSONL sink

// The JSONL sink from @agentgate/core/node, when this build exports it.
const node = await optionalImport<Record<string, unknown>>("@agentgate/core/node");
type Sink = AuditSink & { close(): Promise<void>; flush(): Promise<void> };
const JsonlAuditSink = node.module?.JsonlAuditSink as
  | (new (
      path: string,
      options?: Record<string, unknown>,
    ) => Sink)
  | undefined;
const verifyAuditLog = node.module?.verifyAuditLog as
  | ((path: string, options?: Record<string, unknown>) => Promise<{ ok: boolean; records: number; problem?: string }>)
  | undefined;
let sinkSection: string[] = [];
if (JsonlAuditSink) {
  sinkSection = await jsonlSection(JsonlAuditSink);
} else {
  sinkSection = [
    `JSONL audit sink: not measured, \`@agentgate/core/node\` does not export \`JsonlAuditSink\` in this build${node.error ? ` (${node.error})` : ""}.`,
  ];
  targets.push({
    name: "JSONL audit sink, per decision",
    target: "≤ 2 µs",
    measured: "not measured (sink missing)",
    met: null,
  });
}

/** The sink's cost two ways: latency added to each check, and all CPU it spends per decision, writes included. */
async function jsonlSection(Ctor: new (path: string, options?: Record<string, unknown>) => Sink): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), "agentgate-bench-"));
  const path = join(dir, "audit.jsonl");
  try {
    const sink = new Ctor(path);
    const gPlain = gate();
    const gSink = gate({ auditSinks: [sink] });
    const lat = await runLatency(
      [
        { name: "plain", op: mixOp(gPlain) },
        { name: "sink", op: mixOp(gSink), after: () => gSink.flush() },
      ],
      { rounds: QUICK ? 3 : 9, calls: QUICK ? 2_000 : 10_000 },
    );
    // CPU per decision including the group-commit writes: N checks, then flush, per round.
    const batch = QUICK ? 2_000 : 10_000;
    const cpu = { plain: [] as number[], sink: [] as number[] };
    for (let round = 0; round < (QUICK ? 3 : 9); round++) {
      for (const which of round % 2 === 0 ? (["plain", "sink"] as const) : (["sink", "plain"] as const)) {
        const g = which === "sink" ? gSink : gPlain;
        const op = mixOp(g);
        const c0 = process.cpuUsage();
        for (let i = 0; i < batch; i++) await op(i);
        await g.flush();
        const c = process.cpuUsage(c0);
        cpu[which].push(((c.user + c.system) * 1000) / batch);
      }
    }
    const t0 = performance.now();
    await gSink.close();
    const closeMs = performance.now() - t0;
    const bytes = statSync(path).size;
    let verified = "";
    let records: number;
    if (verifyAuditLog) {
      const v = await verifyAuditLog(path);
      if (!v.ok) throw new Error(`the benchmark's own audit log does not verify: ${v.problem}`);
      records = v.records;
      verified = ` \`verifyAuditLog\` accepts all ${v.records.toLocaleString("en-US")} records.`;
    } else {
      records = readFileSync(path, "utf8").split("\n").length - 1;
    }
    const [plainLat, sinkLat] = lat as [LatencyResult, LatencyResult];
    const addedLatency = sinkLat.p50Ns.median - plainLat.p50Ns.median;
    const deltas = cpu.sink.map((x, i) => x - cpu.plain[i]!);
    const cpuPerDecision = summarize(deltas).median;
    targets.push({
      name: "JSONL audit sink, per decision",
      target: "≤ 2 µs",
      measured: `${fmtNs(addedLatency)} added to a check's p50; ${fmtNs(cpuPerDecision)} CPU per decision with its writes`,
      // Both: the latency a check sees and all the CPU the sink spends per decision.
      met: addedLatency <= 2000 && cpuPerDecision <= 2000,
    });
    sinkData.jsonl = { addedLatencyNs: addedLatency, cpuPerDecisionNs: cpuPerDecision, bytes, closeMs };
    return [
      "### JSONL audit sink",
      "",
      `\`JsonlAuditSink\` from \`@agentgate/core/node\` with its defaults (format v2: one SHA-256 per group commit; fsync group commit), the request mix, beside the same mix without a sink.`,
      "",
      table(
        ["case", "p50 per check", "p99 per check", "CPU per decision, group-commit writes included"],
        [
          [
            "request mix, in-memory audit only",
            fmtNs(plainLat.p50Ns.median),
            fmtNs(plainLat.p99Ns.median),
            fmtNs(summarize(cpu.plain).median),
          ],
          [
            "request mix + JSONL sink",
            fmtNs(sinkLat.p50Ns.median),
            fmtNs(sinkLat.p99Ns.median),
            fmtNs(summarize(cpu.sink).median),
          ],
          ["**sink cost**", `**${fmtNs(addedLatency)}**`, "", `**${fmtNs(cpuPerDecision)}**`],
        ],
      ),
      "",
      `The run wrote ${(bytes / 1e6).toFixed(1)} MB (${records.toLocaleString("en-US")} lines, ${Math.round(bytes / Math.max(1, records))} B each); \`close()\` took ${closeMs.toFixed(0)} ms.${verified}`,
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const cedarR = rivals.find((r) => r.name === cedar.name)!;
const casbinR = rivals.find((r) => r.name === casbin.name)!;
targets.unshift(
  {
    name: "`gate.check` in memory, request mix",
    target: "≤ 1 µs median",
    measured: `p50 ${fmtNs(mixLat.p50Ns.median)}; mean CPU incl. GC ${fmtNs(mix.nsPerOp.median)}`,
    met: mixLat.p50Ns.median <= 1000,
  },
  {
    name: "`gate.check` in memory, limited path",
    target: "≤ 1 µs median",
    measured: `p50 ${fmtNs(limitedLat.p50Ns.median)}; mean CPU incl. GC ${fmtNs(limited.nsPerOp.median)}`,
    met: limitedLat.p50Ns.median <= 1000,
  },
  {
    name: "`gate.check` (mix) vs Cedar-wasm",
    target: "≥ 20× faster",
    measured: `${fmtRatio(cedarR.nsPerOp.median / mix.nsPerOp.median)} faster (CPU per decision)`,
    met: cedarR.nsPerOp.median / mix.nsPerOp.median >= 20,
  },
  {
    name: "`gate.check` (mix) vs casbin",
    target: "≥ 3× faster",
    measured: `${fmtRatio(casbinR.nsPerOp.median / mix.nsPerOp.median)} faster (CPU per decision)`,
    met: casbinR.nsPerOp.median / mix.nsPerOp.median >= 3,
  },
);

sections.push(
  "### In memory",
  "",
  `\`gate.check\` with the default \`MemoryStore\` and in-memory audit (default \`auditLimit\` 10 000), awaited one call at a time. The mix is table 1's, with \`max_per_minute\` on \`llm_call\`, so the gate enforces a limit and records every decision while it decides.`,
  "",
  table(["case", "p50 per check", "p99 per check", "mean CPU per check (incl. GC)", "mean wall clock per check"], rows),
  "",
  `p50/p99: every call timed on its own, ${(QUICK ? 5_000 : 20_000).toLocaleString("en-US")} calls per round, median over ${latency[0]!.p50Ns.n} interleaved rounds; they include two \`hrtime\` reads and one await (the timer row). Mean CPU: process CPU time of ~15 ms batches (all threads, so garbage collection of the decisions the audit keeps is in it), median of ${results[0]!.samples.length} rounds; the wall-clock mean beside it also holds the time this process waited for a CPU on the shared machine. Static path p50: ${fmtNs(staticLat.p50Ns.median)}; limited path p50: ${fmtNs(limitedLat.p50Ns.median)}. The rivals are synchronous and do not count, limit or audit anything; the speed-ups in the targets compare CPU per decision, GC included for the gate.`,
  "",
  ...sinkSection,
);

// ------------------------------------------------------------------------------ Redis

const redisUrl = process.env.AGENTGATE_REDIS_URL;
const redisSkip = process.env.AGENTGATE_BENCH_REDIS_SKIP;
const redisData: Record<string, unknown> = {};
if (!redisUrl) {
  const why = redisSkip ?? "AGENTGATE_REDIS_URL is not set";
  sections.push("", "### Redis", "", `Skipped: ${why}.`);
  targets.push({
    name: "`RedisStore` check vs `RateLimiterRedis.consume()`",
    target: "≤ 1.2× latency",
    measured: "skipped (no Redis)",
    met: null,
  });
} else {
  const redisModule = await optionalImport<typeof import("@agentgate/redis")>("@agentgate/redis");
  if (!redisModule.module) {
    sections.push(
      "",
      "### Redis",
      "",
      `\`RedisStore\` not measured: \`@agentgate/redis\` does not load in this build (${redisModule.error}).`,
    );
    targets.push({
      name: "`RedisStore` check vs `RateLimiterRedis.consume()`",
      target: "≤ 1.2× latency",
      measured: "not measured (`@agentgate/redis` missing)",
      met: null,
    });
  } else {
    sections.push("", ...(await redisSection(redisUrl, redisModule.module)));
  }
}

async function redisSection(url: string, mod: typeof import("@agentgate/redis")): Promise<string[]> {
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

if (notes.length > 0) sections.push("", ...notes.map((x) => `> ${x}`));

emit({
  id: "gate",
  title: "2. Full gate",
  markdown: sections.join("\n"),
  targets,
  data: {
    cpu: Object.fromEntries(results.map((r: CaseResult) => [r.name, r.nsPerOp])),
    latency: Object.fromEntries(latency.map((r) => [r.name, { p50: r.p50Ns, p99: r.p99Ns }])),
    sink: sinkData,
    rivals: Object.fromEntries(rivals.map((r) => [r.name, r.nsPerOp])),
    redis: redisData,
  },
});
process.exit(0);
