import { describe, expect, it } from "vitest";
import { AgentIdentity } from "../identity/agent-identity.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import { deniedToolResult } from "../gate/approval.js";
import { deniedToolResultIn } from "./denied-tool-result-text.js";
import { GateKeeper } from "../gate/gate-keeper.js";

describe("deniedToolResultIn", () => {
  it("reads back a denial passed through as JSON text, and nothing else", async () => {
    const gate = new GateKeeper({
      identity: await AgentIdentity.create("text-bot"),
      policy: new PermissionPolicy({ name: "t", rules: [] }),
    });
    const denied = deniedToolResult(await gate.check("tool_use", "x"));
    expect(deniedToolResultIn(JSON.stringify(denied))).toEqual(denied);
    for (const text of ["change freeze", "{not json", '{"denied":false}', '{"denied":true}', undefined, 42, "[1]"])
      expect(deniedToolResultIn(text)).toBeUndefined();
  });
});
