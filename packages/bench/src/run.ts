/**
 * `pnpm bench`: runs every table in its own Node process (side by side within a table, never
 * across tables), starts a private redis-server when `AGENTGATE_REDIS_URL` is unset, and writes
 * docs/benchmarks.md from the results.
 *
 *   node src/run.ts [--quick] [--only=policy,gate,adapters,memory,mcp,scale] [--out=path]
 *
 * `--quick` is a smoke run (a few rounds; writes to a temp file unless --out is given).
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { describeMachine, load } from "./machine.ts";
import { findRedisServer, startRedis, type LocalRedis } from "./redis-server.ts";
import type { TableResult, TargetCheck } from "./result.ts";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, "..", "..", "..");
const USAGE = `usage: node src/run.ts [--quick] [--only=policy,gate,adapters,memory,mcp,scale] [--out=path]
  --quick  a smoke run: a few rounds, written to a temp file unless --out is given
  --only   run only these tables
  --out    write the results here (default: docs/benchmarks.md, or a temp file with --quick)`;
// Strict: a mistyped flag (or --help) must not start a full run that rewrites docs/benchmarks.md.
let parsed: ReturnType<typeof parseCli>;
function parseCli() {
  // `pnpm bench -- --quick` passes the "--" along.
  const argv = process.argv.slice(2);
  return parseArgs({
    args: argv[0] === "--" ? argv.slice(1) : argv,
    options: {
      quick: { type: "boolean" },
      only: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean" },
    },
    strict: true,
  }).values;
}
try {
  parsed = parseCli();
} catch (error) {
  console.error(`${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (parsed.help) {
  console.log(USAGE);
  process.exit(0);
}
const quick = parsed.quick === true || process.env.AGENTGATE_BENCH_QUICK === "1";
const only = parsed.only?.split(",");
const tmp = mkdtempSync(join(tmpdir(), "agentgate-bench-run-"));
const out =
  parsed.out ?? (quick ? join(tmpdir(), "agentgate-benchmarks-quick.md") : join(repoRoot, "docs", "benchmarks.md"));

interface Table {
  id: string;
  file: string;
  title: string;
  nodeFlags?: string[];
  needsRedis?: boolean;
}

const TABLES: Table[] = [
  { id: "policy", file: "tables/policy-decision.ts", title: "1. Policy decision" },
  { id: "gate", file: "tables/full-gate.ts", title: "2. Full gate", needsRedis: true },
  { id: "adapters", file: "tables/adapter-overhead.ts", title: "3. Adapter overhead" },
  { id: "memory", file: "tables/memory.ts", title: "4. Memory", nodeFlags: ["--expose-gc"] },
  { id: "mcp", file: "tables/mcp-proxy.ts", title: "5. MCP proxy" },
  { id: "scale", file: "tables/scale.ts", title: "6. Scale", nodeFlags: ["--expose-gc"], needsRedis: true },
];
const unknownTables = only?.filter((id) => !TABLES.some((t) => t.id === id)) ?? [];
if (unknownTables.length > 0) {
  console.error(`no table named ${unknownTables.join(", ")}\n${USAGE}`);
  process.exit(2);
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const machine = describeMachine();
log(
  `agentgate bench: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load ${load()}${quick ? " (quick)" : ""}`,
);

// ------------------------------------------------------------------------------ Redis
let redis: LocalRedis | undefined;
let redisUrl = process.env.AGENTGATE_REDIS_URL;
let redisNote: string;
if (redisUrl) {
  redisNote = `Redis from \`AGENTGATE_REDIS_URL\` (${redisUrl.replace(/\/\/[^@/]*@/, "//***@")}).`;
} else {
  const binary = findRedisServer();
  if (!binary) {
    redisNote = "No `redis-server` on PATH and no `AGENTGATE_REDIS_URL`: the Redis part of table 2 is skipped.";
  } else {
    try {
      redis = await startRedis(binary);
      redisUrl = redis.url;
      redisNote = `A private \`redis-server\` ${redis.version} started by the run on ${redis.url} (no persistence), stopped at the end.`;
    } catch (error) {
      redisNote = `\`redis-server\` found but could not be started (${(error as Error).message}): the Redis part of table 2 is skipped.`;
    }
  }
}
const stopRedis = async () => {
  const r = redis;
  redis = undefined;
  await r?.stop();
};
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void stopRedis().finally(() => process.exit(130));
  });
}
log(redisNote);

// ------------------------------------------------------------------------------ tables
interface Ran {
  table: Table;
  result?: TableResult;
  error?: string;
  seconds: number;
  load: string;
}

function runTable(table: Table): Promise<Ran> {
  const outFile = join(tmp, `${table.id}.json`);
  const env: NodeJS.ProcessEnv = { ...process.env, AGENTGATE_BENCH_OUT: outFile };
  if (quick) env.AGENTGATE_BENCH_QUICK = "1";
  if (table.needsRedis) {
    if (redisUrl) env.AGENTGATE_REDIS_URL = redisUrl;
    else {
      delete env.AGENTGATE_REDIS_URL;
      env.AGENTGATE_BENCH_REDIS_SKIP = redisNote;
    }
    if (redis) env.AGENTGATE_BENCH_OWN_REDIS = "1";
  }
  const started = performance.now();
  log(`\n== ${table.title} (${table.file}), load ${load()}`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...(table.nodeFlags ?? []), join(here, table.file)], {
      env,
      stdio: ["ignore", "inherit", "inherit"],
    });
    const limitMs = quick ? 120_000 : 600_000;
    const timer = setTimeout(() => child.kill("SIGKILL"), limitMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      resolve({ table, error: error.message, seconds: (performance.now() - started) / 1000, load: load() });
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) {
        const why = signal === "SIGKILL" ? `killed after ${limitMs / 1000} s` : `exit code ${code ?? signal}`;
        return resolve({ table, error: why, seconds, load: load() });
      }
      try {
        resolve({ table, result: JSON.parse(readFileSync(outFile, "utf8")) as TableResult, seconds, load: load() });
      } catch (error) {
        resolve({ table, error: `no result written (${(error as Error).message})`, seconds, load: load() });
      }
    });
  });
}

const ran: Ran[] = [];
try {
  for (const table of TABLES) {
    if (only && !only.includes(table.id)) continue;
    const r = await runTable(table);
    log(r.error ? `!! ${table.title} failed: ${r.error}` : `== ${table.title}: ${r.seconds.toFixed(0)} s`);
    ran.push(r);
  }
} finally {
  await stopRedis();
}

// ------------------------------------------------------------------------------ report
const mark = (met: boolean | null) => (met === null ? "–" : met ? "✅ met" : "❌ missed");
const targets: (TargetCheck & { table: string })[] = ran.flatMap((r) =>
  (r.result?.targets ?? []).map((t) => ({ ...t, table: r.table.title })),
);
let history = "";
try {
  history = readFileSync(join(here, "history.md"), "utf8").trim();
} catch {
  history = "";
}

const totalSeconds = ran.reduce((s, r) => s + r.seconds, 0);

/** What the load during the run means for the numbers, from the 1-minute load averages seen. */
function noiseNote(): string {
  const loads = [machine.loadAtStart[0]!, ...ran.map((r) => Number(r.load.split(" / ")[0]))];
  const lo = Math.min(...loads).toFixed(1);
  const hi = Math.max(...loads).toFixed(1);
  const busy = Math.max(...loads) >= machine.cores;
  return busy
    ? `This machine (${machine.cores} logical cores) was shared with other busy processes during the run (1-minute load average ${lo}–${hi}). Absolute numbers are slower and noisier than on an idle machine, wall-clock figures most of all; the medians, CPU times and paired ratios are the figures to trust. Rerun \`pnpm bench\` on a quiet machine for cleaner absolutes.`
    : `The machine (${machine.cores} logical cores, shared with other work) was fairly quiet during this run (1-minute load average ${lo}–${hi}). Numbers still move by some percent between runs; the medians, CPU times and paired ratios are the figures to trust.`;
}
const doc = [
  "# Benchmarks",
  "",
  `<!-- Generated by \`pnpm bench\` (packages/bench/src/run.ts). Do not edit by hand: rerun it. -->`,
  "",
  `What a gate in front of every tool call costs, measured side by side with the engines people would use instead. Generated by \`pnpm bench\` on ${machine.date.slice(0, 10)}${quick ? " (**quick smoke run: few rounds, not for quoting**)" : ""}.`,
  "",
  "## Machine",
  "",
  "| | |",
  "| --- | --- |",
  `| CPU | ${machine.cpu}, ${machine.cores} logical cores |`,
  `| Memory | ${machine.memoryGb} GB |`,
  `| Node | ${machine.node} |`,
  `| OS | ${machine.os} |`,
  `| Date | ${machine.date} |`,
  `| Commit | ${machine.commit} |`,
  `| Load average (1 / 5 / 15 min) | ${machine.loadAtStart.map((x) => x.toFixed(1)).join(" / ")} at the start; per table below |`,
  `| Redis | ${redisNote} |`,
  "",
  "## Targets",
  "",
  "| table | target | goal | measured | |",
  "| --- | --- | --- | --- | --- |",
  ...targets.map((t) => `| ${t.table.split(".")[0]} | ${t.name} | ${t.target} | ${t.measured} | ${mark(t.met)} |`),
  ...ran
    .filter((r) => r.error)
    .map((r) => `| ${r.table.title.split(".")[0]} | ${r.table.title} | | **failed: ${r.error}** | ❌ |`),
  "",
  "## Method, and how to read the numbers",
  "",
  "- One Node process per table, so no table's JIT state, heap or background work leaks into another. Within a table every case runs in the same process, side by side.",
  "- Every case is warmed up first. Cases are then interleaved round by round in rotating order, and each number is the **median over rounds** (p25–p75 shown where useful). Ratios between two cases are medians of per-round ratios, each round's pair timed back to back.",
  "- Synchronous engines (table 1) are timed in batches by process CPU time: on a shared machine the wall clock also counts time spent waiting for a CPU. Async calls (tables 2 and 3) are also timed one by one (p50/p99 per call), which preemption hardly ever hits. Mean CPU per call includes garbage collection on every thread.",
  "- Before anything is timed, each engine must return the expected decision for every request, the gate's decisions are checked, and each adapter's gated call must reach the gate and run the tool.",
  `- **Noise.** ${noiseNote()}`,
  "",
  ...ran.flatMap((r) => [
    `## ${r.table.title}`,
    "",
    `<sub>\`packages/bench/src/${r.table.file}\` · ${r.seconds.toFixed(0)} s · load average after: ${r.load}</sub>`,
    "",
    r.result ? r.result.markdown : `**This table failed: ${r.error}.** See the command's output.`,
    "",
  ]),
  ...(history ? ["## Hot-path fixes (profiled with `node --cpu-prof`, before / after)", "", history, ""] : []),
  "## Reproduce",
  "",
  "```sh",
  "pnpm bench                      # builds, then runs every table (a few minutes)",
  "pnpm --filter @agentgate/bench bench -- --quick --only=policy,gate   # smoke run of some tables",
  "```",
  "",
  `The Redis part uses \`AGENTGATE_REDIS_URL\` when set, otherwise starts \`redis-server\` from PATH on a free port, and is skipped with a note when neither exists. Total run time here: ${totalSeconds.toFixed(0)} s.`,
  "",
].join("\n");

mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, doc);
rmSync(tmp, { recursive: true, force: true });
log(`\nwrote ${relative(process.cwd(), out) || out}`);
for (const t of targets) log(`  ${mark(t.met).padEnd(9)} ${t.name}: ${t.measured} (goal ${t.target})`);
const failed = ran.filter((r) => r.error);
if (failed.length > 0) {
  log(`\n${failed.length} table(s) failed: ${failed.map((r) => r.table.id).join(", ")}`);
  process.exitCode = 1;
}
