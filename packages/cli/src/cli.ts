import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { runApproversAdd, runApproversToken } from "./commands/approvers.js";
import { runAuditShow, runAuditVerify, type AuditShowOptions } from "./commands/audit.js";
import { runCheck } from "./commands/check.js";
import type { CommandContext } from "./commands/context.js";
import { runInit } from "./commands/init.js";
import { runKeygen } from "./commands/keygen.js";
import { runMcp } from "./commands/mcp.js";
import { runReplay } from "./commands/replay.js";
import { runServe, type ServeOptions } from "./commands/serve.js";
import { runTest } from "./commands/test.js";
import { runValidate } from "./commands/validate.js";
import { CliError, ExitCode } from "./errors.js";
import { terminalSafe } from "./format/escape.js";
import { shouldColor } from "./format/style.js";

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string })
      .version;
  } catch {
    return "0.0.0";
  }
}

const JSON_FLAG = "--json";
const jsonOption = () => new Option(JSON_FLAG, "machine-readable JSON on stdout");

/** Builds the `agentgate` command tree; each action stores its exit code in `setCode`. */
export function buildProgram(ctx: CommandContext, setCode: (code: number) => void): Command {
  const program = new Command("agentgate")
    .description(
      "Write, test, explain and replay AgentGate policies.\nExit codes: 0 ok, 1 a finding (failed test, invalid policy, DENY, broken audit log), 2 a usage error.",
    )
    .version(version(), "-V, --version")
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => ctx.out(s.replace(/\n$/, "")),
      writeErr: (s) => ctx.err(s.replace(/\n$/, "")),
      // Errors are printed once, as one line, by `run`.
      outputError: () => {},
    });

  program
    .command("init")
    .description("write a commented starter policy covering every action kind")
    .argument("[path]", "file to write (a folder gets policy.yaml inside it)", "policy.yaml")
    .option("-f, --force", "overwrite an existing file")
    .addOption(jsonOption())
    .action((path: string, opts: { force?: boolean; json?: boolean }) => setCode(runInit(path, opts, ctx)));

  program
    .command("validate")
    .description("check a policy file; lists every problem with its YAML line and path (exit 1 when invalid)")
    .argument("<policy>", "policy YAML file")
    .addOption(jsonOption())
    .action((file: string, opts: { json?: boolean }) => setCode(runValidate(file, opts, ctx)));

  program
    .command("check")
    .description(
      "the decision for one action and why: which rule, which list or limit fired (exit 0 ALLOW, 1 DENY or ESCALATE)",
    )
    .argument("<policy>", "policy YAML file")
    .argument("<action>", "action, e.g. tool_use, file_read, network, or a custom one")
    .argument("[target]", "target, e.g. a tool name, a path or a URL")
    .option("--args <json>", "the call's arguments as JSON")
    .option(
      "--uses <n>",
      "allowed uses that came before, all within the last minute (tests thresholds and rate limits)",
    )
    .addOption(jsonOption())
    .action(
      async (
        file: string,
        action: string,
        target: string | undefined,
        opts: { args?: string; uses?: string; json?: boolean },
      ) => setCode(await runCheck(file, action, target, opts, ctx)),
    );

  program
    .command("test")
    .description(
      "run policy unit tests: cases: [{ name?, action, target?, args?, uses?, expect }] (exit 1 on any failure)",
    )
    .argument("<policy>", "policy YAML file")
    .argument("<cases>", "cases YAML file")
    .option("--coverage", "also list the rules (and rule fields) no case exercised")
    .addOption(jsonOption())
    .action(async (policy: string, cases: string, opts: { coverage?: boolean; json?: boolean }) =>
      setCode(await runTest(policy, cases, opts, ctx)),
    );

  const audit = program.command("audit").description("read and verify audit logs written by JsonlAuditSink");
  audit
    .command("verify")
    .description("check an audit log's hash chain, signed checkpoints and head (exit 1 when tampered)")
    .argument("<audit>", "audit log (.jsonl)")
    .option("--public-key <file>", "the Ed25519 public key to trust: a JWK, or an identity file from agentgate keygen")
    .option(
      "--allow-unsigned-tail",
      "accept records no signature covers yet (a log still being written); says how many were not proven",
    )
    .addOption(jsonOption())
    .action(async (file: string, opts: { publicKey?: string; allowUnsignedTail?: boolean; json?: boolean }) =>
      setCode(await runAuditVerify(file, opts, ctx)),
    );
  audit
    .command("show")
    .description("a readable table of recorded decisions, oldest first")
    .argument("<audit>", "audit log (.jsonl)")
    .option("--agent <id>", "only this agent (id or name)")
    .addOption(new Option("--type <type>", "only this decision type").choices(["allow", "deny", "escalate"]))
    .option("--since <when>", "only decisions since a duration ago (30m, 1h, 2d) or an ISO time")
    .option("--limit <n>", "only the most recent n")
    .addOption(jsonOption())
    .action(async (file: string, opts: AuditShowOptions) => setCode(await runAuditShow(file, opts, ctx)));

  program
    .command("replay")
    .description(
      "replay recorded decisions against a candidate policy: what would change (exit 1 if anything becomes ALLOW)",
    )
    .argument("<policy>", "candidate policy YAML file")
    .argument("<audit>", "audit log (.jsonl)")
    .addOption(jsonOption())
    .action(async (policy: string, file: string, opts: { json?: boolean }) =>
      setCode(await runReplay(policy, file, opts, ctx)),
    );

  program
    .command("keygen")
    .description("create an agent identity, write it (key included) as JSON with mode 0600, print only the public part")
    .addOption(new Option("--algorithm <alg>", "signature scheme").choices(["Ed25519", "HS256"]).default("Ed25519"))
    .option("--name <name>", "agent name", "agent")
    .option("-o, --out <file>", "where to write the identity (default <name>.identity.json)")
    .option("-f, --force", "overwrite an existing file")
    .addOption(jsonOption())
    .action(async (opts: { algorithm?: string; name?: string; out?: string; force?: boolean; json?: boolean }) =>
      setCode(await runKeygen(opts, ctx)),
    );

  // Listed for --help only: `run` hands `agentgate mcp ...` to the proxy before commander parses anything.
  program
    .command("mcp")
    .description("gate an MCP server: runs agentgate-mcp (from @agentgate/mcp) with these arguments")
    .argument(
      "[args...]",
      "agentgate-mcp arguments, e.g. --policy p.yaml -- npx -y @modelcontextprotocol/server-filesystem .",
    )
    .helpOption(false)
    .allowUnknownOption();
  program
    .command("serve")
    .description("the approval inbox and JSON API (@agentgate/approvals) until Ctrl-C")
    .requiredOption("--store <store>", "redis://HOST:PORT shared with the gates, or memory (one-process demo)")
    .requiredOption("--approvers <file>", "approvers.yaml (agentgate approvers add), re-read on change")
    .option("--port <port>", "port", "8787")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--audit <file>", "append answers, grants and revocations to this JSONL file")
    .option("--webhook <url>", "POST signed events on new escalations and answers")
    .option("--webhook-secret <secret>", "HMAC-SHA256 key for the webhook signature")
    .addOption(new Option("--webhook-format <format>", "payload format").choices(["json", "slack"]).default("json"))
    .option("--public-url <url>", "the address people open (links in webhooks, expected Origin)")
    .action(async (opts: ServeOptions) => setCode(await runServe(opts, ctx)));

  const approvers = program.command("approvers").description("manage approvers.yaml for agentgate serve");
  approvers
    .command("add")
    .description("add an approver (or set their password): an scrypt hash is written, never the password")
    .argument("<file>", "approvers.yaml")
    .argument("<name>", "approver name")
    .option("--password-stdin", "read the password from stdin")
    .action(async (file: string, name: string, opts: { passwordStdin?: boolean }) =>
      setCode(await runApproversAdd(file, name, opts, ctx)),
    );
  approvers
    .command("token")
    .description("create an API token (Authorization: Bearer) for an approver; printed once, only its hash is stored")
    .argument("<name>", "approver name")
    .option("--approvers <file>", "approvers.yaml", "approvers.yaml")
    .action((name: string, opts: { approvers?: string }) => setCode(runApproversToken(name, opts, ctx)));

  return program;
}

/** Commander's message (`error: unknown option '--x'\n(Did you mean --y?)`) as one line. */
function oneLine(message: string): string {
  return message
    .replace(/^error:\s*/i, "")
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .join(" ");
}

/**
 * Runs the CLI with `argv` (without `node` and the script) and resolves the
 * exit code. Errors become one line on stderr, never a stack trace.
 */
export async function run(argv: readonly string[], outside: CommandContext): Promise<number> {
  // The output boundary: nothing reaches the terminal with a control character it would act on.
  const ctx: CommandContext = {
    ...outside,
    out: (text) => outside.out(terminalSafe(text, outside.color)),
    err: (text) => outside.err(terminalSafe(text, false)),
  };
  let code: number = ExitCode.OK;
  const json = argv.includes(JSON_FLAG);
  const fail = (exitCode: number, kind: string, message: string, details: readonly string[] = []) => {
    ctx.err(`agentgate: ${message}`);
    for (const d of details) ctx.err(`  ${d}`);
    if (json)
      ctx.out(JSON.stringify({ ok: false, error: { kind, message, ...(details.length ? { details } : {}) } }, null, 2));
    return exitCode;
  };
  try {
    // Every argument after `mcp` belongs to agentgate-mcp, untouched (commander would parse `--policy` itself).
    if (argv[0] === "mcp") return await runMcp(argv.slice(1), ctx);
    const program = buildProgram(ctx, (c) => {
      code = c;
    });
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return ExitCode.OK;
      // Help shown because no command was given.
      if (error.code === "commander.help") return ExitCode.USAGE;
      return fail(ExitCode.USAGE, "usage", `${oneLine(error.message)} (see agentgate --help)`);
    }
    if (error instanceof CliError) return fail(error.exitCode, error.kind, error.message, error.details);
    const message = error instanceof Error ? error.message : String(error);
    if (ctx.env.AGENTGATE_DEBUG && error instanceof Error && error.stack) ctx.err(error.stack);
    return fail(ExitCode.USAGE, "internal", `unexpected error: ${message}`);
  }
}

/** A context bound to the real process. */
export function processContext(): CommandContext {
  return {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    color: shouldColor(process.env, process.stdout.isTTY),
    tty: process.stdout.isTTY === true,
    env: process.env,
    now: () => Date.now(),
  };
}
