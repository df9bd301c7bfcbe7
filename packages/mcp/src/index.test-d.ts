import type { ApprovalRequest, GateKeeper } from "@agentgate/core";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { expectTypeOf, test } from "vitest";
import { gateMcpClient, gateMcpServer, type McpGateOptions, type McpToolMapping } from "./index.js";

declare const gate: GateKeeper;

test("the wrappers return what they were given", () => {
  expectTypeOf(gateMcpClient(new Client({ name: "c", version: "1" }), gate)).toEqualTypeOf<Client>();
  expectTypeOf(gateMcpServer(new McpServer({ name: "s", version: "1" }), gate)).toEqualTypeOf<McpServer>();
  expectTypeOf(gateMcpServer(new Server({ name: "s", version: "1" }), gate)).toEqualTypeOf<Server>();
});

test("options: mapping rules name an action and an argument; the approval handler is core's", () => {
  expectTypeOf<McpToolMapping>().toMatchTypeOf<Readonly<Record<string, { action: string; target?: string }>>>();
  const options: McpGateOptions = {
    mapping: { write_file: { action: "file_write", target: "path" }, fetch: { action: "network", target: "url" } },
    showDenied: false,
    approvalTimeoutMs: 60_000,
    approvalHandler: (request: ApprovalRequest) => request.action !== "shell",
  };
  expectTypeOf(options).toMatchTypeOf<McpGateOptions>();
  const bad: McpGateOptions = {
    // @ts-expect-error a target is the name of an argument, not a function
    mapping: { write_file: { action: "file_write", target: (i: { path: string }) => i.path } },
  };
  void bad;
  // @ts-expect-error gateMcpServer needs something with connect(transport)
  gateMcpServer({}, gate);
});
