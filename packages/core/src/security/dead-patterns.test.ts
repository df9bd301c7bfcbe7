import { describe, expect, it } from "vitest";
import { PolicyValidationError, type PolicyIssue } from "../errors.js";
import { PermissionPolicy } from "../policy/permission-policy.js";

// Issue 12 item 4: a pattern that can never match a normalised target is refused at load, with the YAML line.
function yamlIssues(text: string): readonly PolicyIssue[] {
  try {
    PermissionPolicy.parse(text);
  } catch (e) {
    if (PolicyValidationError.isInstance(e)) return e.issues;
    throw e;
  }
  return [];
}
const rule = (action: string, list: string, patterns: string[]) =>
  yamlIssues(
    `name: p\nrules:\n  - action: ${action}\n    allowed: true\n    ${list}:\n${patterns.map((p) => `      - ${JSON.stringify(p)}\n`).join("")}`,
  );

describe("dead patterns are refused with their path and YAML line", () => {
  it("an NFD file pattern (as macOS writes names) never matches an NFC target", () => {
    const nfd = "/workspace/cafe\u0301/**";
    const issues = rule("file_write", "denied_targets", ["/ok/**", nfd]);
    expect(issues).toEqual([{ path: "rules[0].denied_targets[1]", line: 7, message: expect.stringMatching(/NFC/) }]);
    expect(issues[0]!.message).toContain(JSON.stringify("/workspace/caf\u00e9/**"));
    expect(rule("file_write", "denied_targets", ["/workspace/caf\u00e9/**"])).toEqual([]);
  });

  it("a non-ASCII or non-canonical URL path pattern never matches the percent-encoded target", () => {
    const [a] = rule("network", "denied_targets", ["https://shop.test/café/**"]);
    expect(a).toMatchObject({ path: "rules[0].denied_targets[0]", line: 6 });
    expect(a!.message).toContain('"https://shop.test/caf%C3%A9/**"');
    const [b] = rule("network", "escalate_targets", ["https://shop.test/%61dmin/**"]);
    expect(b!.message).toContain('"https://shop.test/admin/**"');
    const [c] = rule("network", "denied_targets", ["https://shop.test/caf%c3%a9/*"]);
    expect(c!.message).toContain('"https://shop.test/caf%C3%A9/*"');
    for (const p of [
      "https://shop.test//admin/**",
      "https://shop.test/a%2Fb/**",
      "https://shop.test/a;b/**",
      "https://shop.test/%2e%2e/**",
    ]) {
      expect(rule("network", "denied_targets", [p]), p).toEqual([
        { path: "rules[0].denied_targets[0]", line: 6, message: expect.stringMatching(/never matches/) },
      ]);
    }
    expect(
      rule("network", "denied_targets", ["https://shop.test/caf%C3%A9/**", "https://shop.test/a-b_c~/*.json"]),
    ).toEqual([]);
    // A decoded "*" or "," is suggested escaped, so it stays a literal character.
    expect(rule("network", "denied_targets", ["https://shop.test/a%2A{b%2Cc,d}/**"])[0]!.message).toContain(
      JSON.stringify("https://shop.test/a\\*{b\\,c,d}/**"),
    );
  });

  it("a scheme-less network pattern is refused instead of denying everything", () => {
    const [a] = rule("network", "allowed_targets", ["api.shop.test/**"]);
    expect(a).toMatchObject({
      path: "rules[0].allowed_targets[0]",
      line: 6,
      message: expect.stringMatching(/whole URLs/),
    });
    expect(rule("network", "allowed_targets", ["*.shop.test/**"])).toHaveLength(1);
    expect(rule("network", "allowed_targets", ["**.shop.test/**"])).toEqual([]);
    expect(rule("network", "allowed_targets", ["{https,http}://api.shop.test/**"])).toEqual([]);
  });

  it("'**' inside a URL's host can run into the path, so it is refused there", () => {
    expect(rule("network", "allowed_targets", ["https://**.shop.test/**"])[0]!.message).toMatch(/host/);
    expect(rule("network", "allowed_targets", ["https://api.shop.test**"])[0]!.message).toMatch(/host/);
    expect(rule("network", "allowed_targets", ["https://**", "*://**"])).toEqual([]);
  });

  it("a non-special URL pattern without a path is refused (targets always get one)", () => {
    const [a] = rule("network", "denied_targets", ["redis://cache.internal:6379"]);
    expect(a!.message).toContain('"redis://cache.internal:6379/"');
    expect(rule("network", "denied_targets", ["redis://*.cache.internal:6379"])[0]!.message).toMatch(/never matches/);
  });

  it("one list with two problems reports both, even in one pattern", () => {
    const issues = rule("file_read", "denied_targets", ["/workspace/../etc/**", "/workspace/{a,b"]);
    expect(issues.map((i) => [i.path, i.line])).toEqual([
      ["rules[0].denied_targets[0]", 6],
      ["rules[0].denied_targets[1]", 7],
    ]);
    expect(issues[0]!.message).toMatch(/"\.\."/);
    expect(issues[1]!.message).toMatch(/unclosed/);
    const both = rule("file_read", "denied_targets", ["/workspace/../{a,b"]);
    expect(both.map((i) => i.message)).toEqual([expect.stringMatching(/unclosed/), expect.stringMatching(/"\.\."/)]);
  });
});
