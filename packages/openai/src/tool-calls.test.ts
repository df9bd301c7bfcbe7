import { describe, expect, it } from "vitest";
import { readToolCalls } from "./tool-calls.js";

const chunk = (deltas: unknown[], index = 0) => ({
  object: "chat.completion.chunk",
  choices: [{ index, delta: { tool_calls: deltas } }],
});

describe("readToolCalls", () => {
  it("reads Chat tool_calls, refuses custom ones, and shortens hostile names", () => {
    const long = "x".repeat(300);
    const calls = readToolCalls([
      { id: "a", type: "function", function: { name: "search", arguments: "{}" } },
      { id: "b", type: "custom", custom: { name: "grep", input: "raw" } },
      { id: "c", type: "function", function: { name: long, arguments: "{}" } },
      { id: "", type: "function", function: { arguments: "{}" } },
    ] as never);
    expect(calls.map((c) => [c.api, c.callId, c.toolName.length, c.rawArguments])).toEqual([
      ["chat", "a", 6, "{}"],
      ["chat", "b", 4, "raw"],
      ["chat", "c", 257, "{}"],
      ["chat", undefined, 9, "{}"],
    ]);
    expect(calls[1]!.problem).toMatch(/custom tool "grep" is not a function tool/);
    expect(calls[3]!.toolName).toBe("(unnamed)");
    expect(readToolCalls(null)).toEqual([]);
    expect(() => readToolCalls("calls" as never)).toThrow(TypeError);
  });

  it("reads Responses items and events once each, with the namespace in the name, skipping other items", () => {
    const item = { type: "function_call", call_id: "r1", name: "get", namespace: "crm", arguments: "{}" };
    const calls = readToolCalls([
      { type: "message", role: "assistant", content: [] },
      { type: "response.output_item.done", item },
      { type: "response.completed", response: { output: [item, { type: "reasoning" }] } },
      { type: "function_call", call_id: "r2", name: "put", arguments: '{"a":1}' },
    ] as never);
    expect(calls.map((c) => [c.api, c.callId, c.toolName, c.rawArguments])).toEqual([
      ["responses", "r1", "crm.get", "{}"],
      ["responses", "r2", "put", '{"a":1}'],
    ]);
  });

  it("assembles streamed chunks by delta index (first choice only), in index order, bounded", () => {
    const calls = readToolCalls([
      chunk([{ index: 1, id: "s2", type: "function", function: { name: "b", arguments: '{"x"' } }]),
      chunk([{ index: 0, id: "s1", type: "function", function: { name: "a", arguments: "{}" } }]),
      chunk([{ index: 1, function: { arguments: ":1}" } }]),
      chunk([{ index: 0, id: "other", function: { name: "z", arguments: "junk" } }], 1),
      chunk([{ index: 5000, id: "far", function: { name: "far" } }, { index: -1 }, { index: 0.5 }]),
      chunk([{ index: 3, id: "s4", type: "custom", function: { name: "c" } }]),
    ] as never);
    expect(calls.map((c) => [c.callId, c.toolName, c.rawArguments, c.problem !== undefined])).toEqual([
      ["s1", "a", "{}", false],
      ["s2", "b", '{"x":1}', false],
      ["s4", "c", "", true],
    ]);
    const piece = "y".repeat(1024 * 1024);
    const huge = readToolCalls(
      Array.from({ length: 6 }, () =>
        chunk([{ index: 0, id: "big", function: { name: "big", arguments: piece } }]),
      ) as never,
    );
    expect(huge[0]!.problem).toMatch(/streamed arguments for tool "big" are longer than 4194304 characters/);
    expect((huge[0]!.rawArguments as string).length).toBe(5 * piece.length);
  });
});
