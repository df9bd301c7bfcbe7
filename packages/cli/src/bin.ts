#!/usr/bin/env node
// Output piped into `head` and closed early is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

try {
  const { processContext, run } = await import("./cli.js");
  process.exitCode = await run(process.argv.slice(2), processContext());
} catch (error) {
  // Only reachable when the CLI itself cannot load (e.g. a broken install): still one line.
  process.stderr.write(`agentgate: cannot start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
}
