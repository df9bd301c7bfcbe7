import { execFile, execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

// Every example README's commands, checked the way a user runs them: from the
// repository root with npm, on whatever Node the machine has.
const root = fileURLToPath(new URL("../../../", import.meta.url));
const examples = readdirSync(join(root, "examples"), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(root, "examples", entry.name, "package.json")))
  .map((entry) => entry.name)
  .sort();
const rootScripts: Record<string, string> = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts;

/** The command lines of a README's first ```sh block, without their comments. */
function readmeCommands(example: string): string[] {
  const readme = readFileSync(join(root, "examples", example, "README.md"), "utf8");
  const block = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
  return block
    .split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter(Boolean);
}

/** A shell whose PATH has none of the node_modules/.bin folders the test runner adds: the machine's own node and npm. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|pnpm_|PNPM_|TURBO_|VITEST|NODE_OPTIONS$|OPENAI_API_KEY$|AGENTGATE_AUTO_APPROVE$)/.test(key))
      env[key] = value;
  }
  env.PATH = (process.env.PATH ?? "")
    .split(delimiter)
    .filter((dir) => dir && !dir.includes("node_modules/.bin"))
    .join(delimiter);
  return env;
}

function hasNpm(env: NodeJS.ProcessEnv): boolean {
  try {
    execFileSync("npm", ["-v"], { env, stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("example README commands", () => {
  it("finds every example", () => {
    expect(examples).toEqual(
      expect.arrayContaining(["ai-sdk-agent", "langchain-agent", "openai-agents", "openai-sdk", "quickstart"]),
    );
  });

  it.each(examples)(
    "examples/%s/README.md: every command is `npm run example:<name>` and resolves to the example's src/index.ts",
    (example) => {
      const commands = readmeCommands(example);
      expect(commands.length).toBeGreaterThan(0);
      const pkg = JSON.parse(readFileSync(join(root, "examples", example, "package.json"), "utf8"));
      const source = readdirSync(join(root, "examples", example, "src"))
        .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts"))
        .map((file) => readFileSync(join(root, "examples", example, "src", file), "utf8"))
        .join("\n");
      for (const command of commands) {
        // Optional VAR=value assignments, then exactly the root script: nothing that needs pnpm or a recent node on PATH.
        const match = /^((?:[A-Z_]+=\S+ )*)npm run (example:[a-z-]+)$/.exec(command);
        expect(match, command).not.toBeNull();
        expect(match![2]).toBe(`example:${example}`);
        // Every variable the README sets is one the example reads.
        for (const name of (match![1] ?? "").match(/[A-Z_]+(?==)/g) ?? [])
          expect(source, `${example} reads ${name}`).toMatch(new RegExp(`env\\.${name}\\b`));
      }
      // npm run example:<name> → bootstrap.sh → pnpm run example:run <name> → run-example.sh → the example's start script.
      expect(rootScripts[`example:${example}`]).toBe(`sh scripts/bootstrap.sh example:run ${example}`);
      expect(rootScripts["example:run"]).toBe("sh scripts/run-example.sh");
      expect(pkg.scripts.start).toBe("node src/index.ts");
      expect(existsSync(join(root, "examples", example, "src", "index.ts"))).toBe(true);
    },
  );

  it.each(examples.filter((example) => example !== "quickstart"))(
    "examples/%s: one rule without a terminal, documented",
    (example) => {
      const readme = readFileSync(join(root, "examples", example, "README.md"), "utf8");
      expect(readme).toContain(
        "rejects the deploy by itself (fail closed) and says so; `AGENTGATE_AUTO_APPROVE=1` makes it approve instead",
      );
      expect(readme).not.toMatch(/AGENTGATE_AUTO_ANSWER|pnpm --filter|node src\/index\.ts/);
    },
  );

  it("run-example.sh refuses an unknown example and lists the real ones", async () => {
    const error = await promisify(execFile)("sh", [join(root, "scripts/run-example.sh"), "no-such-example"]).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 2 });
    const stderr = (error as { stderr: string }).stderr;
    expect(stderr).toContain("unknown example 'no-such-example'");
    for (const example of examples) expect(stderr).toContain(example);
  });

  const env = userEnv();
  it.skipIf(!hasNpm(env))(
    "the quickstart README's command runs as written from the repository root, with the machine's own node and npm",
    async () => {
      const [command] = readmeCommands("quickstart");
      const nodeVersion = execFileSync("node", ["-v"], { env, encoding: "utf8" }).trim();
      const { stdout } = await promisify(execFile)("sh", ["-c", command!], {
        cwd: root,
        env,
        encoding: "utf8",
        timeout: 240_000,
      });
      expect(stdout, `under ${nodeVersion}`).toContain('true rule "tool_use" allows target "search"');
      expect(stdout).toContain('deny rule "shell" does not allow this action');
    },
    300_000,
  );
});
