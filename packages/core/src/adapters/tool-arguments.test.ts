import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import { GateKeeper } from "../gate/gate-keeper.js";
import { parseToolArguments } from "./tool-arguments.js";

describe("parseToolArguments", () => {
  it("reads a JSON argument string as the call's input", () => {
    expect(parseToolArguments("search", '{"query":"x","n":[1,2]}')).toEqual({ input: { query: "x", n: [1, 2] } });
    expect(parseToolArguments("search", "null")).toEqual({ input: null });
  });

  it("says why it cannot read the arguments, and keeps the raw value", () => {
    expect(parseToolArguments("search", undefined)).toEqual({
      input: undefined,
      inputError: 'tool "search" was called without an argument string',
    });
    expect(parseToolArguments("search", "  ")).toEqual({
      input: "  ",
      inputError: 'tool "search" was called with an empty argument string',
    });
    const bad = parseToolArguments("search", '{"query":');
    expect(bad.input).toBe('{"query":');
    expect(bad.inputError).toMatch(/^malformed JSON arguments for tool "search": /);
  });

  it("never throws, and an unreadable string always carries a reason (property)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.anything()), (raw) => {
        const read = parseToolArguments("t", raw);
        if (read.inputError === undefined) expect(read.input).toEqual(JSON.parse(raw as string));
        else expect(read.input).toBe(raw);
      }),
    );
  });

  it("spread into checkToolCall, an unreadable string is an audited DENY (invalid_input)", async () => {
    const gate = new GateKeeper({
      identity: await AgentIdentity.create("args-bot"),
      policy: new PermissionPolicy({ name: "p", rules: [{ action: "tool_use", allowed: true }] }),
    });
    const decision = await gate.checkToolCall({
      toolName: "search",
      callId: "c",
      ...parseToolArguments("search", "{"),
    });
    expect(decision).toMatchObject({ type: "deny", code: "invalid_input", callId: "c" });
    expect(decision.reason).toMatch(/malformed JSON arguments/);
    expect(gate.decisions).toEqual([decision]);
  });
});
