/**
 * Table 2: the full gate (`gate.check`: policy, limits, decision object, audit), in memory,
 * with the JSONL audit sink, and with `RedisStore` beside `rate-limiter-flexible` on one Redis.
 */
import { AgentIdentity, GateKeeper, PermissionPolicy, type AuditSink, type GateStore } from "@agentgate/core";
import { agtEngine, casbinEngine, cedarEngine, decisionsOf, type Engine } from "../engines.ts";
import { describeRequest, EXPECTED, limitedPolicy, REQUESTS } from "../fixture.ts";
import { fmtNs, fmtRatio, runAsync, runLatency, runSync, table, type AsyncCase, type CaseResult } from "../harness.ts";
import { emit, log, QUICK, roundOptions, type TargetCheck } from "../result.ts";
import { jsonlSection, type Sink } from "./full-gate-sink.ts";
import { redisSection } from "./full-gate-redis.ts";
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
  sinkSection = await jsonlSection(JsonlAuditSink, { gate, mixOp, targets, sinkData, verifyAuditLog });
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
    sections.push("", ...(await redisSection(redisUrl, redisModule.module, { targets, redisData, high: HIGH })));
  }
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
