/**
 * Synchronous file access without a static `node:fs` import, so the main entry
 * still loads in edge runtimes. `process.getBuiltinModule` exists in Node >= 22.3,
 * Deno and Bun.
 */
export function nodeFs(feature: string): typeof import("node:fs") {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  const fs = get?.("node:fs") as typeof import("node:fs") | undefined;
  if (!fs)
    throw new Error(
      `${feature} needs file system access (Node >= 22, Deno or Bun); use PermissionPolicy.parse(text) instead`,
    );
  return fs;
}
