import { parseArgs } from "node:util";
import { CliError, ExitCode } from "@agentgate/cli";

/** The proxy's command line, parsed. */
export interface ProxyArgs {
  policy: string;
  mapping?: string;
  store?: string;
  audit?: string;
  identity?: string;
  approvalTimeoutMs: number;
  listen?: { host: string; port: number };
  /** With `--listen`: client sessions open at once (each has its own upstream connection), default 32. */
  maxSessions: number;
  showDenied: boolean;
  upstream: { command: string; args: string[] } | { url: URL };
}

// Usage errors are the CLI's own `CliError` (exit 2), so both binaries report them the same way.
const usage = (message: string) => new CliError(message, { exitCode: ExitCode.USAGE, kind: "usage" });

export const USAGE = `usage: agentgate-mcp --policy policy.yaml [--mapping mapping.yaml] [--store redis://host:6379]
                    [--audit audit.jsonl] [--identity agent.json] [--approval-timeout 5m]
                    [--listen 127.0.0.1:PORT [--max-sessions 32]] [--show-denied]
                    (-- <upstream command> [args...] | --upstream-url http://host/mcp)`;

/** `5m`, `30s`, `1500ms`, `2h` or plain milliseconds. */
export function parseDuration(text: string, option: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw usage(`${option} must be a duration like 30s, 5m or 1500ms, got ${JSON.stringify(text)}`);
  const n = Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "ms") as "ms"];
  if (!Number.isFinite(n) || n > 2 ** 31 - 1) throw usage(`${option} is too long: ${text}`);
  return Math.round(n);
}

function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text) ?? /^()()(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || !(port >= 0 && port <= 65535))
    throw usage(`--listen must be HOST:PORT (e.g. 127.0.0.1:8931), got ${JSON.stringify(text)}`);
  return { host: m[1] || m[2] || "127.0.0.1", port };
}

/** Parses `agentgate-mcp` arguments (everything after `--` is the upstream command, untouched). */
export function parseProxyArgs(argv: readonly string[]): ProxyArgs {
  const dash = argv.indexOf("--");
  const own = dash === -1 ? [...argv] : argv.slice(0, dash);
  const upstreamCmd = dash === -1 ? [] : argv.slice(dash + 1);
  let values;
  try {
    ({ values } = parseArgs({
      args: own,
      strict: true,
      allowPositionals: false,
      options: {
        policy: { type: "string" },
        mapping: { type: "string" },
        store: { type: "string" },
        audit: { type: "string" },
        identity: { type: "string" },
        "approval-timeout": { type: "string" },
        listen: { type: "string" },
        "max-sessions": { type: "string" },
        "show-denied": { type: "boolean" },
        "upstream-url": { type: "string" },
      },
    }));
  } catch (error) {
    throw usage((error as Error).message);
  }
  if (!values.policy) throw usage("--policy is required (a policy file; `agentgate init` writes a starter one)");
  let upstream: ProxyArgs["upstream"];
  if (values["upstream-url"] !== undefined) {
    if (upstreamCmd.length > 0) throw usage("give either --upstream-url or -- <upstream command>, not both");
    let url: URL;
    try {
      url = new URL(values["upstream-url"]);
    } catch {
      throw usage(`--upstream-url is not a URL: ${JSON.stringify(values["upstream-url"])}`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:")
      throw usage("--upstream-url must be http:// or https://");
    upstream = { url };
  } else {
    const [command, ...args] = upstreamCmd;
    if (!command) throw usage("no upstream server: add -- <command> [args...] or --upstream-url http://host/mcp");
    upstream = { command, args };
  }
  if (values.store !== undefined && !/^rediss?:\/\//.test(values.store))
    throw usage("--store must be a redis:// or rediss:// URL");
  const out: ProxyArgs = {
    policy: values.policy,
    approvalTimeoutMs:
      values["approval-timeout"] !== undefined
        ? parseDuration(values["approval-timeout"], "--approval-timeout")
        : 300_000,
    showDenied: values["show-denied"] === true,
    maxSessions: 32,
    upstream,
  };
  if (values.mapping !== undefined) out.mapping = values.mapping;
  if (values.store !== undefined) out.store = values.store;
  if (values.audit !== undefined) out.audit = values.audit;
  if (values.identity !== undefined) out.identity = values.identity;
  if (values.listen !== undefined) out.listen = parseListen(values.listen);
  if (values["max-sessions"] !== undefined) {
    const n = values["max-sessions"];
    if (!/^\d{1,6}$/.test(n) || Number(n) < 1)
      throw usage(`--max-sessions must be a whole number >= 1, got ${JSON.stringify(n)}`);
    out.maxSessions = Number(n);
  }
  return out;
}
