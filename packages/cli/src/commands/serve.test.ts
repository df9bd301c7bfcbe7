import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BIN, runCli, tempDir } from "../test-utils/run-cli.js";

function withStdin(
  args: string[],
  input: string,
  cwd: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe("agentgate approvers and serve", () => {
  let cleanup = () => {};
  afterEach(() => cleanup());

  it("approvers add writes an scrypt hash (never the password); token prints once and stores a hash", async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const r = await withStdin(
      ["approvers", "add", "approvers.yaml", "alice", "--password-stdin"],
      "correct horse battery\n",
      t.dir,
    );
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(join(t.dir, "approvers.yaml"), "utf8");
    expect(text).toMatch(/password: scrypt\$32768\$8\$1\$/);
    expect(text).not.toContain("correct horse");
    const tok = await runCli(["approvers", "token", "alice", "--approvers", "approvers.yaml"], { cwd: t.dir });
    expect(tok.code, tok.stderr).toBe(0);
    const token = tok.stdout.trim();
    expect(token).toMatch(/^agt_[A-Za-z0-9_-]{43}$/);
    const after = readFileSync(join(t.dir, "approvers.yaml"), "utf8");
    expect(after).not.toContain(token);
    expect(after).toMatch(/sha256\$/);
    expect((await runCli(["approvers", "add", "approvers.yaml", "bob"], { cwd: t.dir })).code).toBe(2);
    expect((await runCli(["approvers", "token", "nobody"], { cwd: t.dir })).code).toBe(2);
  });

  it("serve --store memory listens, answers, and stops cleanly on Ctrl-C (SIGINT)", async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    await withStdin(
      ["approvers", "add", "approvers.yaml", "alice", "--password-stdin"],
      "correct horse battery",
      t.dir,
    );
    const child = spawn(
      process.execPath,
      [BIN, "serve", "--store", "memory", "--approvers", "approvers.yaml", "--port", "0"],
      { cwd: t.dir, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.setEncoding("utf8").on("data", (c: string) => {
        out += c;
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on("close", () => reject(new Error(`serve exited: ${out}`)));
    });
    const res = await fetch(`${url}/api/escalations`);
    expect(res.status).toBe(401);
    const login = await fetch(`${url}/login`);
    expect(await login.text()).toContain("Sign in");
    const code = new Promise<number | null>((resolve) => child.on("close", resolve));
    child.kill("SIGINT");
    expect(await code).toBe(0);
  });

  it("serve refuses an unreachable Redis with one line", async () => {
    const r = await runCli(["serve", "--store", "redis://127.0.0.1:1", "--approvers", "x.yaml", "--port", "0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot start the approval server: cannot reach Redis/);
  });
});
