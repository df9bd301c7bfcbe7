import { makeDecision, type Decision } from "@agentgate/core";
import type { AuditLogEntry, AuditLogVerification } from "@agentgate/core/node";
import { describe, expect, it } from "vitest";
import { renderAuditTable } from "./audit-table.js";
import { escapeControl, terminalSafe } from "./escape.js";
import { shouldColor } from "./style.js";
import { renderTable, visibleWidth } from "./table.js";
import { formatVerifyResult } from "./verify.js";

const decision = (over: Partial<Decision> = {}): Decision =>
  makeDecision({
    id: "d1",
    type: "deny",
    code: "denied_target",
    agentId: "a1",
    agentName: "bot",
    action: "file_read",
    target: "/workspace/.env",
    reason: 'rule "file_read": target "/workspace/.env" matches denied_targets pattern "**/.env"',
    timestamp: "2025-01-02T03:04:05.678Z",
    policy: "p",
    ...over,
  } as Parameters<typeof makeDecision>[0]);

describe("escapeControl and terminalSafe", () => {
  it("escape every C0, DEL, C1, bidi and line-separator character visibly; printable text is untouched", () => {
    expect(escapeControl("\u001b[2Kx\u001b]52;c;aGk=\u0007\u009b31m\u007f\t\n\r\u202e\u2028é ok")).toBe(
      "\\u001b[2Kx\\u001b]52;c;aGk=\\u0007\\u009b31m\\u007f\\t\\n\\r\\u202e\\u2028é ok",
    );
    for (let c = 0; c < 0x2070; c++) {
      const ch = String.fromCharCode(c);
      const control =
        c < 0x20 ||
        (c >= 0x7f && c <= 0x9f) ||
        c === 0x2028 ||
        c === 0x2029 ||
        (c >= 0x202a && c <= 0x202e) ||
        (c >= 0x2066 && c <= 0x2069);
      expect(escapeControl(ch) !== ch, c.toString(16)).toBe(control);
    }
  });

  it("terminalSafe keeps newlines and tabs, and plain SGR colours only when colour is on", () => {
    expect(terminalSafe("a\tb\nc\u001b[31mred\u001b[39m\u001b[2K\u009b", true)).toBe(
      "a\tb\nc\u001b[31mred\u001b[39m\\u001b[2K\\u009b",
    );
    expect(terminalSafe("\u001b[31mred\u001b[39m", false)).toBe("\\u001b[31mred\\u001b[39m");
    // An OSC or cursor sequence is never kept, colour or not.
    expect(terminalSafe("\u001b]52;c;aGk=\u0007\u001b[1A", true)).toBe("\\u001b]52;c;aGk=\\u0007\\u001b[1A");
    // Escaped text stays valid inside a JSON string.
    expect(JSON.parse(terminalSafe(JSON.stringify("\u007f\u009b\u202e"), false))).toBe("\u007f\u009b\u202e");
  });
});

describe("renderTable", () => {
  it("aligns columns by visible width, ignoring colour codes, and never pads the last column", () => {
    const out = renderTable(
      ["A", "LONGER"],
      [
        ["red", "x"],
        ["wider cell", "y"],
      ],
      { paint: (v, c, r) => (c === 0 && r === 0 ? `\u001b[31m${v}\u001b[39m` : v) },
    );
    expect(out).toContain("\u001b[31mred");
    const lines = out.split("\n");
    expect(lines.map(visibleWidth)).toEqual([18, 13, 13]);
    expect(lines[0]).toBe("A           LONGER");
    expect(lines[2]).toBe("wider cell  y");
  });

  it("without align: tab-separated, and tabs or newlines inside cells cannot break rows", () => {
    expect(renderTable(["A", "B"], [["1\t2", "line\nbreak"]], { align: false })).toBe("A\tB\n1\\t2\tline\\nbreak");
  });
});

describe("renderAuditTable", () => {
  const entries: AuditLogEntry[] = [
    {
      line: 2,
      seq: 1,
      decision: decision({ type: "allow", code: "allowed", target: "/workspace/a.md", reason: "ok" }),
    },
    { line: 3, seq: 2, decision: decision() },
  ];

  it("renders entries from readAuditLog and plain decisions (gate.decisions) the same way", () => {
    const fromEntries = renderAuditTable(entries);
    expect(renderAuditTable(entries.map((e) => e.decision))).toBe(fromEntries);
    expect(fromEntries.split("\n")).toEqual([
      "TIME                  AGENT  DECISION  ACTION     TARGET           REASON",
      "2025-01-02 03:04:05Z  bot    ALLOW     file_read  /workspace/a.md  ok",
      '2025-01-02 03:04:05Z  bot    DENY      file_read  /workspace/.env  rule "file_read": target "/workspace/.env" matches denied_targets pattern "**/.env"',
    ]);
  });

  it("colours decisions only when asked", () => {
    expect(renderAuditTable(entries)).not.toContain("\u001b[");
    const coloured = renderAuditTable(entries, { color: true });
    expect(coloured).toContain("\u001b[32mALLOW");
    expect(coloured).toContain("\u001b[31mDENY");
  });

  it("a decision without a target shows -", () => {
    const { target: _t, ...rest } = decision();
    expect(
      renderAuditTable([makeDecision({ ...rest, target: undefined })], { align: false })
        .split("\n")[1]!
        .split("\t")[4],
    ).toBe("-");
  });
});

describe("formatVerifyResult", () => {
  const ok: AuditLogVerification = {
    ok: true,
    records: 3,
    decisions: 2,
    checkpoints: 1,
    signatures: "trusted-key",
    headChecked: true,
    recoveries: 0,
    unsigned: 0,
    dropped: 0,
    lastCheckpoint: { seq: 2, at: "2025-01-01T00:00:00.000Z", line: 3 },
  };

  it("OK with counts and what was checked", () => {
    expect(formatVerifyResult(ok, { file: "a.jsonl" }).split("\n")).toEqual([
      "OK    a.jsonl: 3 records (2 decisions, 1 signed checkpoint) verified",
      "  signatures       checked against the trusted public key",
      "  head file        compared: truncation before the last checkpoint would show",
      "  last checkpoint  seq 2 at 2025-01-01T00:00:00.000Z (line 3)",
    ]);
  });

  it("FAIL with the problem and the first bad line; torn tails and recoveries are named", () => {
    const bad: AuditLogVerification = {
      ok: false,
      records: 4,
      decisions: 4,
      checkpoints: 0,
      signatures: "none",
      headChecked: false,
      recoveries: 1,
      unsigned: 0,
      dropped: 3,
      firstBadLine: 5,
      problem: "line 5 was modified: its hash does not match its content",
      tornTail: { line: 9, bytes: 12 },
    };
    const text = formatVerifyResult(bad);
    expect(text).toMatch(/^FAIL {2}line 5 was modified/);
    expect(text).toMatch(/first bad line +5/);
    expect(text).toMatch(/recoveries +1 recovery record after a crash \(torn lines cut off, unsigned records named\)/);
    expect(text).toMatch(/torn tail +line 9 \(12 bytes\)/);
    expect(text).toMatch(
      /dropped +3 decisions not written: the writer's buffer was full \(counted in recovery records\)/,
    );
  });

  it("an unsigned log says truncation cannot be ruled out", () => {
    expect(
      formatVerifyResult({ ...ok, checkpoints: 0, signatures: "none", headChecked: false, lastCheckpoint: undefined }),
    ).toMatch(/signatures +none: the log has no signed checkpoints/);
  });
});

describe("shouldColor", () => {
  it("NO_COLOR wins, FORCE_COLOR forces, otherwise only a TTY (and not a dumb terminal)", () => {
    expect(shouldColor({}, true)).toBe(true);
    expect(shouldColor({}, false)).toBe(false);
    expect(shouldColor({ NO_COLOR: "1" }, true)).toBe(false);
    expect(shouldColor({ NO_COLOR: "1", FORCE_COLOR: "1" }, true)).toBe(false);
    expect(shouldColor({ NO_COLOR: "" }, true)).toBe(true);
    expect(shouldColor({ FORCE_COLOR: "1" }, false)).toBe(true);
    expect(shouldColor({ FORCE_COLOR: "0" }, true)).toBe(false);
    expect(shouldColor({ TERM: "dumb" }, true)).toBe(false);
  });
});
