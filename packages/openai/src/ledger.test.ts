import { describe, expect, it } from "vitest";
import { CallLedger } from "./ledger.js";

describe("CallLedger", () => {
  it("is bounded by entries and by characters, oldest first, and always keeps the newest entry", () => {
    const ledger = new CallLedger(3, 100);
    for (const id of ["a", "b", "c", "d"]) ledger.set(id, { fingerprint: id, status: "ran", output: "x" });
    expect(["a", "b", "c", "d"].map((id) => ledger.get(id) !== undefined)).toEqual([false, true, true, true]);
    ledger.set("big", { fingerprint: "f", status: "ran", output: "y".repeat(500) });
    expect(["b", "c", "d", "big"].map((id) => ledger.get(id) !== undefined)).toEqual([false, false, false, true]);
    ledger.set("e", { fingerprint: "e", status: "ran", output: "z" });
    expect(ledger.get("big")).toBeUndefined();
    expect(ledger.get("e")?.output).toBe("z");
    // Replacing an entry keeps its age and its size is recounted.
    ledger.set("e", { fingerprint: "e", status: "ran", output: "w".repeat(97) });
    ledger.set("f", { fingerprint: "f", status: "ran", output: "v" });
    expect(ledger.get("e")).toBeUndefined();
    expect(ledger.get("f")?.output).toBe("v");
  });
});
