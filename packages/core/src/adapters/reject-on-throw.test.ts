import { describe, expect, it } from "vitest";
import { rejectOnThrow } from "./reject-on-throw.js";

describe("rejectOnThrow", () => {
  it("passes the argument and the promise through, and turns a synchronous throw into a rejection", async () => {
    const double = rejectOnThrow((a: number) => Promise.resolve(2 * a));
    expect(await double(2)).toBe(4);
    const broken = rejectOnThrow((input: { x: number }) => Promise.resolve(input.x));
    let result: Promise<number> | undefined;
    expect(() => (result = broken(undefined as never))).not.toThrow();
    await expect(result).rejects.toThrow(TypeError);
  });
});
