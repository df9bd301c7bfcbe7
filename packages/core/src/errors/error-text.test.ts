import { describe, expect, it } from "vitest";
import { errorText } from "./error-text.js";

describe("errorText", () => {
  it("gives the first line of an Error's message, or its name when the message is empty", () => {
    expect(errorText(new Error("store down\n    at stack"))).toBe("store down");
    expect(errorText(new TypeError(""))).toBe("TypeError");
  });

  it("lists a schema error's issues instead of its JSON message", () => {
    // The shape zod and Standard Schema validators throw.
    const error = Object.assign(new Error('[{"code":"invalid_type","path":["city"]}]'), {
      issues: [
        { path: ["city"], message: "Expected string" },
        { path: [], message: "Too many keys" },
      ],
    });
    expect(errorText(error)).toBe("city: Expected string; Too many keys");
  });

  it("never throws, whatever was thrown", () => {
    const hostile = {
      toString: () => {
        throw new Error("no");
      },
    };
    expect(errorText(hostile)).toBe("unprintable error");
    expect(errorText(Object.create(null))).toBe("unprintable error");
    expect(errorText(undefined)).toBe("undefined");
    expect(errorText("plain")).toBe("plain");
  });
});
