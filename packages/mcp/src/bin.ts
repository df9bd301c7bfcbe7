#!/usr/bin/env node
import { CliError } from "@agentgate/cli";
import { parseProxyArgs, USAGE } from "./proxy-args.js";
import { startProxy } from "./proxy.js";

// stdout carries only MCP messages: every log line goes to stderr.
const log = (line: string) => void process.stderr.write(`agentgate-mcp: ${line}\n`);

try {
  const args = parseProxyArgs(process.argv.slice(2));
  const proxy = await startProxy(args, log);
  // The client went away (closed pipe): stop like on end of input, never with a stack trace.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") log(`stdout: ${error.message}`);
    void proxy.close(0);
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void proxy.close(0));
  process.exitCode = await proxy.done;
  // Upstream sockets or timers must not keep a stopped proxy alive.
  setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref();
} catch (error) {
  if (error instanceof CliError) {
    log(error.message);
    for (const line of error.details) process.stderr.write(`  ${line}\n`);
    if (error.kind === "usage") process.stderr.write(`${USAGE}\n`);
    process.exitCode = error.exitCode;
  } else {
    log(`cannot start: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 2;
  }
}
