/**
 * Table 1: one policy decision, the same small policy in every engine, the same request mix.
 * Every engine must return the hand-written decisions before anything is timed.
 */
import { allEngines, cedarVersion, decisionsOf } from "../engines.ts";
import { ADVERSARIAL, describeRequest, EXPECTED, REQUESTS } from "../fixture.ts";
import { fmtNs, fmtRatio, fmtSpread, pairedRatio, runSync, table } from "../harness.ts";
import { emit, log, roundOptions, type TargetCheck } from "../result.ts";

const engines = await allEngines();

const mismatches: string[] = [];
for (const engine of engines) {
  const got = decisionsOf(engine);
  got.forEach((allow, i) => {
    if (allow !== EXPECTED[i]) {
      mismatches.push(
        `${engine.name}: ${describeRequest(REQUESTS[i]!)} gave ${allow ? "allow" : "deny"}, expected ${EXPECTED[i] ? "allow" : "deny"}`,
      );
    }
  });
}
if (mismatches.length > 0) {
  throw new Error(`engines disagree on the request mix, nothing timed:\n  ${mismatches.join("\n  ")}`);
}
log(`policy: all ${engines.length} engines agree on ${REQUESTS.length} requests`);

const results = runSync(
  engines.map((e) => ({ name: e.name, check: e.check, requests: REQUESTS.map(e.prepare) })),
  roundOptions({ rounds: 61, batchMs: 10 }),
);
const byName = new Map(results.map((r) => [r.name, r]));
const floorResult = byName.get("naive floor (Map + picomatch)")!;
const policyResult = byName.get("PermissionPolicy.check")!;
const caslResult = byName.get("@casl/ability")!;
const floor = floorResult.nsPerOp.median;
const policy = policyResult.nsPerOp.median;
const casl = caslResult.nsPerOp.median;
const agtResult = byName.get("agent-governance-sdk PolicyEngine.evaluate")!;
const policyVsFloor = pairedRatio(policyResult, floorResult);
const caslVsPolicy = pairedRatio(caslResult, policyResult);

const rows = engines.map((e) => {
  const r = byName.get(e.name)!;
  return [
    e.name,
    `**${fmtNs(r.nsPerOp.median)}**`,
    fmtSpread(r.nsPerOp),
    fmtNs(r.wallNsPerOp.median),
    fmtRatio(pairedRatio(r, floorResult)),
    e.how,
  ];
});

const adversarial = engines.map((e) => [
  e.name,
  ...decisionsOf(e, ADVERSARIAL).map((allow) => (allow ? "**allow**" : "deny")),
]);

const targets: TargetCheck[] = [
  {
    name: "`PermissionPolicy.check` vs the naive floor",
    target: "≤ 1.3×",
    measured: `${fmtRatio(policyVsFloor)} (${fmtNs(policy)} vs ${fmtNs(floor)})`,
    met: policyVsFloor <= 1.3,
  },
  {
    name: "`PermissionPolicy.check` vs CASL",
    target: "faster",
    measured: `${fmtRatio(caslVsPolicy)} faster (${fmtNs(policy)} vs ${fmtNs(casl)})`,
    met: caslVsPolicy > 1,
  },
  {
    name: "`PermissionPolicy.check` vs agent-governance-sdk `PolicyEngine.evaluate`",
    target: "reported",
    measured: `${fmtRatio(pairedRatio(agtResult, policyResult))} faster (${fmtNs(policy)} vs ${fmtNs(agtResult.nsPerOp.median)})`,
    met: null,
  },
];

const markdown = [
  `Policy: allow tool \`search\`, allow \`llm_call\`, allow \`file_read\` under \`/workspace/**\`, deny \`shell\`; anything else denied by default.`,
  `Request mix (${REQUESTS.length} requests, cycled, half allow and half deny): ${REQUESTS.map((r) => `\`${describeRequest(r)}\``).join(", ")}.`,
  `Before timing, every engine returned exactly the expected decision for each request (and every timed batch re-checks the allow count).`,
  "",
  table(
    [
      "engine",
      "median per decision (CPU)",
      "p25 – p75 of rounds",
      "wall clock",
      "vs floor (paired)",
      "how the policy is encoded",
    ],
    rows,
    [5],
  ),
  "",
  `${results[0]!.samples.length} rounds per engine after warm-up, engines interleaved in rotating order, about 10 ms per batch. "vs floor" is the median of per-round ratios (each engine against the floor batch of the same round), which holds up better than a ratio of medians when the machine's load drifts. Cedar ${cedarVersion()}.`,
  "",
  "Outside the timed mix, targets a model might produce to get past the glob (not part of the agreement check):",
  "",
  table(["engine", ...ADVERSARIAL.map((r) => `\`${r.target}\``)], adversarial),
  "",
  "`PermissionPolicy` resolves `.`/`..` before matching; path-prefix matchers that see the raw string (casbin `keyMatch`, Cedar `like`) let these through unless the caller normalises first.",
].join("\n");

emit({
  id: "policy",
  title: "1. Policy decision",
  markdown,
  targets,
  data: Object.fromEntries(results.map((r) => [r.name, { ...r.nsPerOp, vsFloor: pairedRatio(r, floorResult) }])),
});
