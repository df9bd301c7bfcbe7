import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeAuditFixture, type AuditFixture } from "../test-utils/audit-fixture.js";
import { BIN, isOneLineError, json, runCli, tempDir } from "../test-utils/run-cli.js";

let dir: string;
let cleanup: () => void;
let fx: AuditFixture;
beforeAll(async () => {
  ({ dir, cleanup } = tempDir());
  fx = await writeAuditFixture(dir);
});
afterAll(() => cleanup());

/** A copy of the fixture log (and its head) to tamper with. */
function copyLog(name: string): string {
  const file = join(dir, name);
  copyFileSync(fx.file, file);
  copyFileSync(`${fx.file}.head`, `${file}.head`);
  return file;
}

describe("agentgate audit verify", () => {
  it("an intact log: OK, exit 0, says what was checked", async () => {
    const r = await runCli(["audit", "verify", fx.file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^OK {4}.*audit\.jsonl: 12 records \(10 decisions, 2 signed checkpoints\) verified/);
    expect(r.stdout).toMatch(/signatures +checked against the key written in the log/);
    expect(r.stdout).toMatch(/head file +compared/);
  });

  it("--public-key pins the signer: a JWK, an identity file, or keygen --json output all work", async () => {
    const keygenJson = join(dir, "keygen-output.json");
    writeFileSync(
      keygenJson,
      JSON.stringify({
        ok: true,
        file: "x",
        identity: { publicKeyJwk: JSON.parse(readFileSync(fx.publicKeyFile, "utf8")) },
      }),
    );
    const runs = await Promise.all(
      [fx.publicKeyFile, fx.signerFile, keygenJson].map((k) =>
        runCli(["audit", "verify", fx.file, "--public-key", k, "--json"]),
      ),
    );
    for (const r of runs) {
      expect(r.code).toBe(0);
      expect(json(r)).toMatchObject({
        ok: true,
        signatures: "trusted-key",
        records: 12,
        decisions: 10,
        checkpoints: 2,
      });
    }
  });

  it("a different key: FAIL, exit 1", async () => {
    const r = await runCli(["audit", "verify", fx.file, "--public-key", fx.otherKeyFile]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL {2}.*signed by a different key than the trusted public key/);
    expect(r.stdout).toMatch(/first bad line +1/);
  });

  it("an edited line: FAIL with the first bad line, exit 1", async () => {
    const file = copyLog("edited.jsonl");
    const lines = readFileSync(file, "utf8").split("\n");
    lines[5] = lines[5]!.replace('"type":"deny"', '"type":"allow"');
    writeFileSync(file, lines.join("\n"));
    const r = await runCli(["audit", "verify", file]);
    expect(r.code).toBe(1);
    // Format v2: the group's checkpoint (line 12) hashes lines 2..11, so the edit shows from line 2.
    expect(r.stdout).toContain("a line among lines 2..12 was modified");
    expect(r.stdout).toMatch(/first bad line +2/);
    expect(json(await runCli(["audit", "verify", file, "--json"]))).toMatchObject({ ok: false, firstBadLine: 2 });
  });

  it("a truncated log: FAIL, exit 1", async () => {
    const file = copyLog("truncated.jsonl");
    const lines = readFileSync(file, "utf8").split("\n");
    writeFileSync(file, `${lines.slice(0, 5).join("\n")}\n`);
    const r = await runCli(["audit", "verify", file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("truncated");
  });

  it("--public-key: a record appended after the last checkpoint and chained correctly is not verified; --allow-unsigned-tail accepts it and says so", async () => {
    const file = copyLog("forged-tail.jsonl");
    const lines = readFileSync(file, "utf8").trimEnd().split("\n");
    const last = JSON.parse(lines.at(-1)!);
    const forged = JSON.parse(lines.find((l) => JSON.parse(l).type === "decision")!);
    forged.decision = {
      ...forged.decision,
      id: "forged",
      type: "allow",
      code: "allowed",
      action: "shell",
      target: "rm -rf /",
      reason: "forged",
    };
    // A format v2 record carries no hash of its own: the next chain point would hash it, and there is none.
    forged.seq = last.seq + 1;
    writeFileSync(file, `${lines.join("\n")}\n${JSON.stringify(forged)}\n`);
    const [strict, relaxed, strictJson] = await Promise.all([
      runCli(["audit", "verify", file, "--public-key", fx.publicKeyFile]),
      runCli(["audit", "verify", file, "--public-key", fx.publicKeyFile, "--allow-unsigned-tail"]),
      runCli(["audit", "verify", file, "--public-key", fx.publicKeyFile, "--json"]),
    ]);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(
      /^FAIL {2}.*record seq 12 \(line 13\) after the last signed checkpoint .* not covered by any signature/,
    );
    expect(strict.stdout).toMatch(/first bad line +13/);
    expect(json(strictJson)).toMatchObject({ ok: false, unsigned: 1, firstBadLine: 13 });
    expect(relaxed.code).toBe(0);
    expect(relaxed.stdout).toMatch(/^OK /);
    expect(relaxed.stdout).toMatch(
      /unsigned +1 record not proven by any signature \(written after the last signed checkpoint, or before a crash\) \(accepted by --allow-unsigned-tail\)/,
    );
  });

  it("a file that is not an audit log is a finding (line 1 is not a record), exit 1", async () => {
    const file = join(dir, "notes.txt");
    writeFileSync(file, "hello\n");
    const r = await runCli(["audit", "verify", file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("line 1 is not valid JSON");
  });

  it("bad input: missing log, a directory, a missing or malformed key file: one line, exit 2", async () => {
    mkdirSync(join(dir, "folder"), { recursive: true });
    const notJson = join(dir, "key.txt");
    writeFileSync(notJson, "not json");
    const notKey = join(dir, "key.json");
    writeFileSync(notKey, '{"kty":"RSA"}');
    const cases: [string[], RegExp][] = [
      [["audit", "verify", join(dir, "missing.jsonl")], /cannot read audit log .*missing\.jsonl: no such file/],
      [["audit", "verify", join(dir, "folder")], /cannot read audit log .*folder: it is a directory/],
      [
        ["audit", "verify", fx.file, "--public-key", join(dir, "nope.json")],
        /cannot read public key file .*nope\.json: no such file/,
      ],
      [["audit", "verify", fx.file, "--public-key", notJson], /--public-key .*key\.txt: not JSON/],
      [
        ["audit", "verify", fx.file, "--public-key", notKey],
        /--public-key .*key\.json: expected an Ed25519 public JWK/,
      ],
      [["audit", "verify"], /missing required argument 'audit'/],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args)));
    for (const [i, [args, message]] of cases.entries()) {
      const r = results[i]!;
      expect(r.code, args.join(" ")).toBe(2);
      expect(isOneLineError(r.stderr), r.stderr).toBe(true);
      expect(r.stderr).toMatch(message);
    }
  });
});

describe("agentgate audit show", () => {
  it("prints every decision, oldest first; tab-separated when not a terminal", async () => {
    const r = await runCli(["audit", "show", fx.file]);
    expect(r.code).toBe(0);
    const rows = r.stdout
      .trimEnd()
      .split("\n")
      .map((l) => l.split("\t"));
    expect(rows[0]).toEqual(["TIME", "AGENT", "DECISION", "ACTION", "TARGET", "REASON"]);
    expect(rows).toHaveLength(11);
    expect(rows.slice(1).map((r) => `${r[2]} ${r[3]} ${r[4]}`)).toEqual([
      "ALLOW tool_use search",
      "DENY shell ls",
      "ESCALATE tool_use deploy",
      "ALLOW tool_use deploy",
      "DENY tool_use delete_repo",
      "ALLOW llm_call -",
      "ALLOW llm_call -",
      "DENY llm_call -",
      "ALLOW file_read /workspace/notes.md",
      "DENY file_read /workspace/app/.env",
    ]);
    expect(rows[4]![5]).toMatch(/^approved by alice/);
    expect(rows[1]![0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
  });

  it("filters: --type, --agent (name or id), --since, --limit", async () => {
    const [deny, helperByName, helperById, recent, last2] = await Promise.all([
      runCli(["audit", "show", fx.file, "--type", "deny", "--json"]),
      runCli(["audit", "show", fx.file, "--agent", "helper-bot", "--json"]),
      runCli(["audit", "show", fx.file, "--agent", fx.agents.helper.id, "--json"]),
      runCli(["audit", "show", fx.file, "--since", "1h", "--json"]),
      runCli(["audit", "show", fx.file, "--type", "allow", "--limit", "2", "--json"]),
    ]);
    const targets = (r: Awaited<ReturnType<typeof runCli>>) =>
      json(r).entries.map((e: any) => e.decision.target ?? "-");
    expect(json(deny)).toMatchObject({ total: 10, shown: 4 });
    expect(targets(deny)).toEqual(["ls", "delete_repo", "-", "/workspace/app/.env"]);
    expect(targets(helperByName)).toEqual(["/workspace/notes.md", "/workspace/app/.env"]);
    expect(targets(helperById)).toEqual(targets(helperByName));
    expect(json(recent).shown).toBe(8); // the first two are two hours old
    expect(targets(last2)).toEqual(["-", "/workspace/notes.md"]);
    // entries carry their line and seq, and arguments as the sink wrote them (secrets redacted)
    const shell = json(deny).entries[0];
    expect(shell).toMatchObject({ line: 3, seq: 2 });
    expect(JSON.stringify(shell.args)).not.toContain("hunter2");
  });

  it("says so when nothing matches, or the log is empty (exit 0)", async () => {
    const empty = join(dir, "empty.jsonl");
    writeFileSync(empty, "");
    const [none, blank] = await Promise.all([
      runCli(["audit", "show", fx.file, "--agent", "nobody"]),
      runCli(["audit", "show", empty]),
    ]);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain("none of the 10 decisions match");
    expect(blank.code).toBe(0);
    expect(blank.stdout).toContain("no decisions recorded");
  });

  it("bad input: bad --since, --type, --limit, a missing file, a directory, not an audit log: one line, exit 2", async () => {
    const yaml = join(dir, "policy.yaml");
    writeFileSync(yaml, "name: x\nrules: []\n");
    const cases: [string[], RegExp][] = [
      [["audit", "show", fx.file, "--since", "yesterday"], /--since must be a duration like 30m/],
      [
        ["audit", "show", fx.file, "--type", "maybe"],
        /argument 'maybe' is invalid. Allowed choices are allow, deny, escalate/,
      ],
      [["audit", "show", fx.file, "--limit", "ten"], /--limit must be a whole number/],
      [["audit", "show", join(dir, "missing.jsonl")], /no such file/],
      [["audit", "show", dir], /it is a directory/],
      [["audit", "show", yaml], /is not an AgentGate audit log: line 1 is not an audit record/],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args)));
    for (const [i, [args, message]] of cases.entries()) {
      const r = results[i]!;
      expect(r.code, args.join(" ")).toBe(2);
      expect(isOneLineError(r.stderr), r.stderr).toBe(true);
      expect(r.stderr).toMatch(message);
    }
  });
});

describe("on a terminal", () => {
  // `script` gives the child a real pseudo-terminal: aligned columns and colours, as a person sees them.
  it.skipIf(!existsSync("/usr/bin/script"))("audit show aligns and colours the table, with a count", async () => {
    const command = [process.execPath, BIN, "audit", "show", fx.file, "--type", "deny"]
      .map((a) => JSON.stringify(a))
      .join(" ");
    const env: NodeJS.ProcessEnv = { ...process.env, TERM: "xterm" };
    delete env.NO_COLOR;
    delete env.FORCE_COLOR;
    const out = await new Promise<string>((resolve, reject) => {
      const child = execFile(
        "/usr/bin/script",
        ["-qec", command, "/dev/null"],
        { env, encoding: "utf8" },
        (error, stdout) => (error ? reject(error) : resolve(stdout)),
      );
      child.stdin!.end();
    });
    expect(out).toContain("\u001b[31mDENY");
    const plain = out.replace(/\u001b\[[0-9;]*m/g, "").replace(/\r/g, "");
    const lines = plain.trimEnd().split("\n");
    expect(lines[0]!.split(/ {2,}/)).toEqual(["TIME", "AGENT", "DECISION", "ACTION", "TARGET", "REASON"]);
    // aligned: every row's DECISION cell starts where the header's does
    const column = lines[0]!.indexOf("DECISION");
    for (const row of lines.slice(1, 5)) expect(row.slice(column, column + 4)).toBe("DENY");
    expect(lines).not.toContainEqual(expect.stringContaining("\t"));
    expect(lines.at(-1)).toBe("4 of 10 decisions");
  });
});
