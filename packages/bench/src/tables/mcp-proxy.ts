/**
 * Table 5: what the `agentgate-mcp` proxy adds to one MCP `tools/call`. The same SDK client
 * calls `echo` on a real `@modelcontextprotocol/server-everything` over stdio, once directly and
 * once through the proxy (permissive policy, in-memory store, no audit file), calls interleaved
 * round by round. Each number includes the extra process hop (two more pipe writes and JSON
 * parses) as well as the gate check.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { fmtNs, runLatency, table, type AsyncCase } from "../harness.ts";
import { emit, log, QUICK, type TargetCheck } from "../result.ts";

const proxyBin = join(dirname(fileURLToPath(import.meta.resolve("@agentgate/mcp"))), "bin.js");
// The package has no exports map to resolve through: its bin, via this package's node_modules link.
const everything = fileURLToPath(
  new URL("../../node_modules/@modelcontextprotocol/server-everything/dist/index.js", import.meta.url),
);
const dir = mkdtempSync(join(tmpdir(), "agentgate-bench-mcp-"));
const policy = join(dir, "policy.yaml");
writeFileSync(
  policy,
  "name: bench-mcp\nrules:\n  - action: tool_use\n    allowed: true\n    allowed_targets: [echo]\n",
);

async function connect(command: string, args: string[]): Promise<Client> {
  const client = new Client({ name: "bench", version: "1.0.0" });
  await client.connect(new StdioClientTransport({ command, args, stderr: "ignore" }));
  return client;
}

const direct = await connect(process.execPath, [everything, "stdio"]);
const proxied = await connect(process.execPath, [
  proxyBin,
  "--policy",
  policy,
  "--",
  process.execPath,
  everything,
  "stdio",
]);

// Before timing: both paths answer, and the proxy really gates (a tool outside the policy is refused).
for (const c of [direct, proxied]) {
  const r = (await c.callTool({ name: "echo", arguments: { message: "check" } })) as { content: { text: string }[] };
  if (r.content[0]?.text !== "Echo: check") throw new Error(`echo did not answer: ${JSON.stringify(r)}`);
}
const refused = await proxied.callTool({ name: "get-env", arguments: {} });
if (refused.isError !== true) throw new Error("the proxy did not refuse get-env");
log("mcp: both paths verified");

const call = (c: Client) => (i: number) => c.callTool({ name: "echo", arguments: { message: `m${i}` } });
const cases: AsyncCase[] = [
  { name: "direct", op: call(direct) },
  { name: "proxy", op: call(proxied) },
];
const lat = await runLatency(cases, { rounds: QUICK ? 3 : 9, calls: QUICK ? 200 : 1_000 });
const [d, p] = lat;
const addedP50 = p!.p50Ns.median - d!.p50Ns.median;
const addedP99 = p!.p99Ns.median - d!.p99Ns.median;

const targets: TargetCheck[] = [
  {
    name: "MCP proxy, added latency per tools/call",
    target: "reported (no target set)",
    measured: `${fmtNs(addedP50)} p50, ${fmtNs(addedP99)} p99`,
    met: null,
  },
];
const markdown = [
  "One `tools/call` of `echo` on a real `@modelcontextprotocol/server-everything` (stdio), from an SDK `Client`: directly, and through `agentgate-mcp` (permissive policy, in-memory store, no audit file). The proxy's cost is one more process hop (pipe write, JSON parse and serialise each way) plus the gate check. Before timing, both paths returned the echo and the proxy refused a tool outside the policy.",
  "",
  table(
    ["path", "p50", "p99"],
    [
      ["direct", fmtNs(d!.p50Ns.median), fmtNs(d!.p99Ns.median)],
      ["through agentgate-mcp", fmtNs(p!.p50Ns.median), fmtNs(p!.p99Ns.median)],
      ["**added by the proxy**", `**${fmtNs(addedP50)}**`, `**${fmtNs(addedP99)}**`],
    ],
    [0],
  ),
  "",
  `Every call timed on its own at concurrency 1; medians over ${d!.p50Ns.n} interleaved rounds of ${QUICK ? 200 : 1_000} calls per path.`,
].join("\n");

await Promise.all([direct.close(), proxied.close()]);
rmSync(dir, { recursive: true, force: true });
emit({
  id: "mcp",
  title: "5. MCP proxy",
  markdown,
  targets,
  data: { latency: Object.fromEntries(lat.map((r) => [r.name, { p50: r.p50Ns, p99: r.p99Ns }])) },
});
process.exit(0);
