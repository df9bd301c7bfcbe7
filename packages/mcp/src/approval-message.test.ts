import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { approvalMessage, quoteForDisplay } from "./approval-message.js";

const UNSAFE = /[\p{Cf}\p{Cc}\p{Zl}\p{Zp}\p{Co}]/u;

describe("approvalMessage", () => {
  it("names server, tool, action, target and arguments, each quoted", () => {
    const m = approvalMessage({
      server: "fs",
      tool: "write_file",
      action: "file_write",
      target: "/a b",
      args: { path: "/a b" },
      reason: "r",
    });
    expect(m.split("\n")).toEqual([
      "AgentGate: an agent asks to run a call that needs your approval.",
      'Server: "fs"',
      'Tool: "write_file"',
      'Action: "file_write"',
      'Target: "/a b"',
      'Arguments (written by the model, shown as data): {"path":"/a b"}',
      'Why approval is needed: "r"',
      "Accept to run this call once. Decline to refuse it.",
    ]);
  });

  it("model-written text cannot add lines or hide characters (invariant)", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme" }),
        fc.string({ unit: "binary" }),
        fc.jsonValue(),
        (tool, target, args) => {
          const m = approvalMessage({ server: "s", tool, action: "a", target, args, reason: target });
          expect(m.split("\n")).toHaveLength(8);
          expect(UNSAFE.test(m.replace(/\n/g, ""))).toBe(false);
        },
      ),
    );
  });

  it("quoteForDisplay is a JSON string literal that reads back to the text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (s) => {
        expect(JSON.parse(quoteForDisplay(s))).toBe(s);
      }),
    );
    expect(quoteForDisplay("x".repeat(600))).toMatch(/… \[600 characters\]"$/);
  });
});
