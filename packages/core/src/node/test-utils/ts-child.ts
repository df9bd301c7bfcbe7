// Test helpers: child processes that run this package's TypeScript sources directly (Node strips the types).
import { spawn } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/** A module hook for `--import`: maps the sources' `./x.js` specifiers to `./x.ts`. */
export const TS_HOOKS = `
import { registerHooks } from "node:module";
registerHooks({
  resolve(specifier, context, next) {
    try { return next(specifier, context); }
    catch (error) {
      if (error?.code === "ERR_MODULE_NOT_FOUND" && specifier.startsWith(".") && specifier.endsWith(".js")) return next(specifier.slice(0, -3) + ".ts", context);
      throw error;
    }
  },
});`;

/** The package's `src` directory as a file URL, for a child script's imports (`${SRC}/index.ts`). */
export const SRC = pathToFileURL(join(import.meta.dirname, "..", "..")).href;

/** Starts `node` on the script file `script` with the hook, `env` added to this process's environment. */
export function spawnTsChild(script: string, env: Record<string, string>) {
  return spawn(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(TS_HOOKS)}`, script], {
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
}
