// Module hooks for a child process that runs the adapter's sources as if
// `langchain` and `@langchain/langgraph` (the optional peers) were not installed.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const blocked = [/^langchain(\/|$)/, /^@langchain\/langgraph(\/|$)/];

export async function resolve(specifier, context, next) {
  if (blocked.some((re) => re.test(specifier))) {
    const error = new Error(`Cannot find package '${specifier}' (blocked by the test)`);
    error.code = "ERR_MODULE_NOT_FOUND";
    throw error;
  }
  // Run TypeScript sources directly: "./x.js" imports mean "./x.ts" here.
  if (specifier.startsWith(".") && specifier.endsWith(".js") && context.parentURL?.endsWith(".ts")) {
    const ts = new URL(specifier.replace(/\.js$/, ".ts"), context.parentURL);
    if (existsSync(fileURLToPath(ts))) return next(ts.href, context);
  }
  return next(specifier, context);
}
