import type { HITLRequest, HITLResponse } from "langchain";
import { describe, expectTypeOf, it } from "vitest";
import type { GateInterruptValue, GateResumeValue } from "./index.js";

describe("the gate's interrupt speaks LangChain's HITL protocol", () => {
  it("a GateInterruptValue is a HITLRequest", () => {
    expectTypeOf<GateInterruptValue>().toExtend<HITLRequest>();
  });

  it("a HITLResponse with one decision is a GateResumeValue; the { approved } answer still is", () => {
    expectTypeOf<{ decisions: [HITLResponse["decisions"][number]] }>().toExtend<GateResumeValue>();
    expectTypeOf<{ approved: true; approvedBy: "alice" }>().toExtend<GateResumeValue>();
    expectTypeOf<{ decisions: [{ type: "maybe" }] }>().not.toExtend<GateResumeValue>();
  });
});
