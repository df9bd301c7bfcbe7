/**
 * Part of table 6: one agent's limit enforced by two processes sharing one Redis. This file is
 * also the second process (`--redis-worker`): it runs the same checks and prints its counts.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { AgentIdentity, GateKeeper, PermissionPolicy } from "@agentgate/core";
import { limitedPolicy } from "../fixture.ts";
import { fmtNs, table } from "../harness.ts";
import { log, QUICK, type TargetCheck } from "../result.ts";

interface Counts {
  allows: number;
  denies: number;
  ms: number;
  p50Ns: number;
}

const CHECKS = QUICK ? 2_000 : 10_000;

/** `CHECKS` awaited `llm_call` checks, 8 in flight, on a gate whose limits live in Redis under `prefix`. */
async function work(url: string, prefix: string, identityJson: string, limit: number, startAt = 0): Promise<Counts> {
  const { Redis } = await import("ioredis");
  const { RedisStore } = await import("@agentgate/redis");
  const client = new Redis(url);
  try {
    const gate = new GateKeeper({
      identity: await AgentIdentity.import(identityJson),
      policy: new PermissionPolicy(limitedPolicy(limit)),
      store: new RedisStore({ client, prefix }),
    });
    await gate.check("tool_use", "search"); // connected and warm before the clock starts
    // Both processes start at the same moment, so they compete for the limit the whole time.
    await new Promise((r) => setTimeout(r, Math.max(0, startAt - Date.now())));
    let allows = 0;
    let denies = 0;
    const lat: number[] = [];
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < CHECKS) {
          next++;
          const s = process.hrtime.bigint();
          const d = await gate.check("llm_call");
          lat.push(Number(process.hrtime.bigint() - s));
          if (d.type === "allow") allows++;
          else if (d.code === "rate_limit") denies++;
          else throw new Error(`unexpected decision ${d.code}: ${d.reason}`);
        }
      }),
    );
    const ms = performance.now() - t0;
    lat.sort((a, b) => a - b);
    return { allows, denies, ms, p50Ns: lat[lat.length >> 1]! };
  } finally {
    client.disconnect();
  }
}

if (process.argv[2] === "--redis-worker") {
  const [url, prefix, identityJson, limit, startAt] = process.argv.slice(3) as [string, string, string, string, string];
  process.stdout.write(JSON.stringify(await work(url, prefix, identityJson, Number(limit), Number(startAt))));
  process.exit(0);
}

function worker(url: string, prefix: string, identityJson: string, limit: number, startAt: number): Promise<Counts> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [fileURLToPath(import.meta.url), "--redis-worker", url, prefix, identityJson, String(limit), String(startAt)],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c));
    child.once("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out) as Counts) : reject(new Error(`redis worker exited with ${code}`)),
    );
  });
}

/** The section, or a note saying why it was skipped. */
export async function scaleRedis(targets: TargetCheck[]): Promise<string[]> {
  const url = process.env.AGENTGATE_REDIS_URL;
  const head = ["### Two processes on one Redis", ""];
  if (!url) {
    targets.push({
      name: "two processes, one Redis: shared limit",
      target: "exact",
      measured: "skipped (no Redis)",
      met: null,
    });
    return [...head, `Skipped: ${process.env.AGENTGATE_BENCH_REDIS_SKIP ?? "AGENTGATE_REDIS_URL is not set"}.`, ""];
  }
  const identity = JSON.stringify((await AgentIdentity.create("bench-agent")).export());
  const limit = CHECKS;
  const run = `${process.pid}-${Date.now()}`;
  // Alone first (its own keys), then this process and a second one on the same keys.
  const alone = await work(url, `agentgate-scale-${run}-a:`, identity, limit);
  const prefix = `agentgate-scale-${run}-b:`;
  const startAt = Date.now() + 3000;
  const [here, there] = await Promise.all([
    work(url, prefix, identity, limit, startAt),
    worker(url, prefix, identity, limit, startAt),
  ]);
  const allows = here.allows + there.allows;
  log(`  scale: redis alone ${alone.allows} allows; two processes ${here.allows} + ${there.allows}`);
  targets.push({
    name: "two processes, one Redis: shared limit",
    target: `exactly ${limit.toLocaleString("en-US")} allows`,
    measured: `${allows.toLocaleString("en-US")} (${here.allows.toLocaleString("en-US")} + ${there.allows.toLocaleString("en-US")})`,
    met: allows === limit,
  });
  const row = (name: string, c: Counts) => [
    name,
    c.allows.toLocaleString("en-US"),
    c.denies.toLocaleString("en-US"),
    `${Math.round((CHECKS / c.ms) * 1000).toLocaleString("en-US")}/s`,
    fmtNs(c.p50Ns),
  ];
  return [
    ...head,
    `One agent (one identity, imported in both processes), \`llm_call\` limited to ${limit.toLocaleString("en-US")} a minute, \`RedisStore\` on ${url.replace(/\/\/[^@/]*@/, "//***@")}; each process runs ${CHECKS.toLocaleString("en-US")} checks, 8 in flight; the two start at the same moment (after connecting), so together they ask for twice the limit.`,
    "",
    table(
      ["process", "allows", "rate-limit denials", "checks per second", "p50 per check"],
      [
        row("one process alone", alone),
        row("two processes: this one", here),
        row("two processes: the other", there),
        [
          "**two processes together**",
          `**${allows.toLocaleString("en-US")}**`,
          (here.denies + there.denies).toLocaleString("en-US"),
          "",
          "",
        ],
      ],
    ),
    "",
  ];
}
