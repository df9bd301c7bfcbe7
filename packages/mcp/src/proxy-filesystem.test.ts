import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { readAuditLog, verifyAuditLog } from "@agentgate/core/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectStdio,
  FILESYSTEM_SERVER,
  spawnProxy,
  tempDir,
  text,
  type StdioProxy,
} from "./test-utils/proxy-harness.js";

// The proxy in front of the real filesystem server (from npm), driven by a real SDK client over stdio.
describe("agentgate-mcp in front of @modelcontextprotocol/server-filesystem (stdio)", () => {
  const files = tempDir();
  const conf = tempDir("agentgate-mcp-conf-");
  let proxy: StdioProxy;
  let secret: string;
  let audit: string;

  beforeAll(async () => {
    files.write("notes.txt", "hello from the folder\n");
    secret = files.write("secret.env", "TOKEN=abc\n");
    audit = join(conf.dir, "audit.jsonl");
    const policy = conf.write(
      "policy.yaml",
      `name: fs-read-only
rules:
  - action: file_read
    allowed: true
    allowed_targets: ["${files.dir}/**"]
    denied_targets: ["**/*.env"]
  - action: file_write
    allowed: false
  - action: tool_use
    allowed: true
    allowed_targets: [list_allowed_directories, list_directory]
`,
    );
    const mapping = conf.write(
      "mapping.yaml",
      `read_text_file: { action: file_read, target: path }
read_file: { action: file_read, target: path }
write_file: { action: file_write, target: path }
edit_file: { action: file_write, target: path }
`,
    );
    proxy = await connectStdio([
      "--policy",
      policy,
      "--mapping",
      mapping,
      "--audit",
      audit,
      "--",
      process.execPath,
      FILESYSTEM_SERVER,
      files.dir,
    ]);
  });

  afterAll(async () => {
    await proxy?.close();
    files.cleanup();
    conf.cleanup();
  });

  it("returns the file for an allowed read", async () => {
    const result = await proxy.client.callTool({
      name: "read_text_file",
      arguments: { path: join(files.dir, "notes.txt") },
    });
    expect(result.isError).toBeFalsy();
    expect(text(result)).toBe("hello from the folder\n");
  });

  it("refuses a denied write with isError and the gate's reason, and the file is untouched", async () => {
    const target = join(files.dir, "notes.txt");
    const result = await proxy.client.callTool({
      name: "write_file",
      arguments: { path: target, content: "overwritten" },
    });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/^AgentGate denied this call: rule "file_write" does not allow this action/);
    expect(readFileSync(target, "utf8")).toBe("hello from the folder\n");
    const created = await proxy.client.callTool({
      name: "write_file",
      arguments: { path: join(files.dir, "new.txt"), content: "x" },
    });
    expect(created.isError).toBe(true);
    expect(existsSync(join(files.dir, "new.txt"))).toBe(false);
  });

  it("hides tools every call of which the policy denies from tools/list", async () => {
    const names = (await proxy.client.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual(["list_allowed_directories", "list_directory", "read_file", "read_text_file"]);
    expect(names).not.toContain("write_file");
    expect(names).not.toContain("move_file");
  });

  it("refuses `..` and absolute-path tricks in a mapped argument", async () => {
    const tricks = [
      `${files.dir}/../../../etc/passwd`,
      "/etc/passwd",
      `${files.dir}/sub/../../${files.dir.split("/").pop()}-evil/x`,
      `${files.dir}//..//..//etc/hostname`,
      secret,
      `${files.dir}/./secret.env`,
    ];
    for (const path of tricks) {
      const result = await proxy.client.callTool({ name: "read_text_file", arguments: { path } });
      expect(result.isError, path).toBe(true);
      expect(text(result), path).toMatch(/^AgentGate denied this call: rule "file_read": /);
    }
  });

  it("refuses a mapped call whose target argument is missing or not a string", async () => {
    for (const args of [{}, { path: 42 }, { path: ["/etc/passwd"] }]) {
      const result = await proxy.client.callTool({
        name: "read_text_file",
        arguments: args as Record<string, unknown>,
      });
      expect(result.isError).toBe(true);
      expect(text(result)).toMatch(/argument "path" must be a string/);
    }
  });

  it("refuses an unlisted tool called anyway (deny by default)", async () => {
    const result = await proxy.client.callTool({
      name: "move_file",
      arguments: { source: join(files.dir, "notes.txt"), destination: join(files.dir, "moved.txt") },
    });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain('target "move_file" is not in allowed_targets');
    expect(existsSync(join(files.dir, "notes.txt"))).toBe(true);
  });

  it("records every decision in the JSONL audit with the upstream server's name", async () => {
    await proxy.client.callTool({ name: "list_allowed_directories", arguments: {} });
    await proxy.close();
    const entries = await readAuditLog(audit);
    expect(entries.length).toBeGreaterThanOrEqual(10);
    const serverName = proxy.client.getServerVersion()?.name;
    expect(serverName).toBeTruthy();
    for (const { decision } of entries) expect(decision.callId).toMatch(new RegExp(`^${serverName}:`));
    expect(entries.some(({ decision }) => decision.action === "file_write" && decision.type === "deny")).toBe(true);
    expect(entries.some(({ decision }) => decision.action === "file_read" && decision.type === "allow")).toBe(true);
    expect((await verifyAuditLog(audit)).ok).toBe(true);
    expect(proxy.stderr()).toMatch(/agent "agentgate-mcp" id \S+ \(generated for this run/);
  });
});

describe("agentgate-mcp start-up refusals", () => {
  const conf = tempDir("agentgate-mcp-bad-");
  afterAll(() => conf.cleanup());

  it("refuses a bad policy with line-numbered errors, before starting the upstream", async () => {
    const policy = conf.write(
      "bad.yaml",
      "name: bad\nrules:\n  - action: file_read\n    allowed: yes-please\n    max_per_minute: -3\n",
    );
    const p = spawnProxy(["--policy", policy, "--", process.execPath, FILESYSTEM_SERVER, conf.dir]);
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toMatch(new RegExp(`invalid ${policy.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: 2 problems`));
    expect(p.stderr()).toMatch(/bad\.yaml:4: rules\[0\]\.allowed: /);
    expect(p.stderr()).toMatch(/bad\.yaml:5: rules\[0\]\.max_per_minute: /);
    expect(p.stderr()).not.toContain("upstream started");
  });

  it("refuses a bad mapping with line-numbered errors", async () => {
    const policy = conf.write("ok.yaml", "name: ok\nrules:\n  - action: tool_use\n    allowed: true\n");
    const mapping = conf.write(
      "mapping.yaml",
      "write_file:\n  action: file_write\n  target: 7\nfetch:\n  actoin: network\n",
    );
    const p = spawnProxy([
      "--policy",
      policy,
      "--mapping",
      mapping,
      "--",
      process.execPath,
      FILESYSTEM_SERVER,
      conf.dir,
    ]);
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toMatch(
      /mapping\.yaml:3: write_file\.target: target must be the name of one of the tool's arguments/,
    );
    expect(p.stderr()).toMatch(/mapping\.yaml:5: fetch\.actoin: unknown key "actoin"/);
    expect(p.stderr()).toMatch(/mapping\.yaml:4: fetch\.action: action must be a non-empty string/);
  });

  it("refuses a command line without an upstream, with usage (exit 2)", async () => {
    const p = spawnProxy(["--policy", join(conf.dir, "ok.yaml")]);
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toContain("no upstream server");
    expect(p.stderr()).toContain("usage: agentgate-mcp");
  });

  it("writes nothing but protocol to stdout", async () => {
    const p = spawnProxy(["--policy", join(conf.dir, "missing.yaml"), "--", "true"]);
    let out = "";
    p.child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toContain("cannot read policy file");
    expect(out).toBe("");
  });
});
