import { describe, expect, it } from "vitest";
import { raceAbort } from "./race-abort.js";

describe("raceAbort", () => {
  it("settles like the promise, or rejects with the signal's reason once it aborts", async () => {
    expect(await raceAbort(Promise.resolve(1), new AbortController().signal)).toBe(1);
    await expect(raceAbort(Promise.reject(new Error("x")), new AbortController().signal)).rejects.toThrow("x");
    const controller = new AbortController();
    const waiting = raceAbort(new Promise(() => {}), controller.signal);
    controller.abort(new Error("ctrl-c"));
    await expect(waiting).rejects.toThrow("ctrl-c");
    await expect(raceAbort(Promise.resolve(1), AbortSignal.abort(new Error("early")))).rejects.toThrow("early");
  });
});
