import type { GateKeeper } from "@agentgate/core";
import type { ToolMessage } from "@langchain/core/messages";
import { tool, type DynamicStructuredTool } from "@langchain/core/tools";
import { describe, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { gateTools, type GateToolInput } from "./gate-tools.js";

declare const gate: GateKeeper;

const search = tool(async ({ query }) => `results for ${query}`, {
  name: "search",
  description: "Search",
  schema: z.object({ query: z.string(), limit: z.number().default(5) }),
});
const shell = tool(async ({ cmd }) => ({ exitCode: 0, cmd }), {
  name: "shell",
  description: "Shell",
  schema: z.object({ cmd: z.string() }),
});

describe("gateTools types", () => {
  it("returns the same tools, position by position, with their exact types", () => {
    const tools = gateTools([search, shell], gate);
    expectTypeOf(tools).toEqualTypeOf<[typeof search, typeof shell]>();
    expectTypeOf(tools[0].name).toEqualTypeOf<"search">();
    expectTypeOf(tools[1]).toEqualTypeOf<typeof shell>();
  });

  it("keeps readonly tuples and plain arrays as they were", () => {
    const fixed = [search, shell] as const;
    expectTypeOf(gateTools(fixed, gate)).toEqualTypeOf<readonly [typeof search, typeof shell]>();
    const list: (typeof search)[] = [search];
    expectTypeOf(gateTools(list, gate)).toEqualTypeOf<(typeof search)[]>();
  });

  it("keeps each tool's input and output types for invoke", () => {
    const [gSearch, gShell] = gateTools([search, shell], gate);
    expectTypeOf(gSearch.invoke({ query: "q" })).resolves.toEqualTypeOf<string>();
    expectTypeOf(gShell.invoke({ cmd: "ls" })).resolves.toEqualTypeOf<{ exitCode: number; cmd: string }>();
    expectTypeOf(
      gShell.invoke({ name: "shell", args: { cmd: "ls" }, id: "1", type: "tool_call" }),
    ).resolves.toEqualTypeOf<ToolMessage>();
    // @ts-expect-error the schema still types the arguments
    void gShell.invoke({ command: "ls" });
  });

  it("types the mapping by tool name, and each target by that tool's parsed input", () => {
    gateTools([search, shell], gate, {
      mapping: {
        shell: { action: "shell", target: (input) => input.cmd },
        search: {
          action: "network",
          target: (input) => {
            expectTypeOf(input).toEqualTypeOf<{ query: string; limit: number }>();
            return `https://docs.example.com/?q=${input.query}`;
          },
        },
      },
    });
    // @ts-expect-error a tool that is not in the list
    gateTools([search, shell], gate, { mapping: { deploy: { action: "deploy" } } });
    // @ts-expect-error the shell tool has no `path`
    gateTools([search, shell], gate, { mapping: { shell: { action: "shell", target: (input) => input.path } } });
    // @ts-expect-error a target returns a string or undefined
    gateTools([search, shell], gate, { mapping: { shell: { action: "shell", target: () => 42 } } });
    // @ts-expect-error an action is required
    gateTools([search, shell], gate, { mapping: { shell: { target: (input) => input.cmd } } });
  });

  it("exposes a tool's parsed input type", () => {
    expectTypeOf<GateToolInput<typeof shell>>().toEqualTypeOf<{ cmd: string }>();
  });

  it("accepts only LangChain tools", () => {
    // @ts-expect-error a plain object is not a tool
    gateTools([{ name: "x", description: "y" }], gate);
    // @ts-expect-error a gate is required
    gateTools([search]);
    expectTypeOf(gateTools<DynamicStructuredTool[]>).returns.toEqualTypeOf<DynamicStructuredTool[]>();
  });
});
