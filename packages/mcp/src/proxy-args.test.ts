import { CliError } from "@agentgate/cli";
import { describe, expect, it } from "vitest";
import { parseDuration, parseProxyArgs } from "./proxy-args.js";

describe("parseProxyArgs", () => {
  it("reads every option and keeps the upstream command after -- untouched", () => {
    const a = parseProxyArgs([
      "--policy",
      "p.yaml",
      "--mapping",
      "m.yaml",
      "--store",
      "redis://h:6379",
      "--audit",
      "a.jsonl",
      "--identity",
      "i.json",
      "--approval-timeout",
      "90s",
      "--listen",
      "127.0.0.1:8931",
      "--show-denied",
      "--",
      "npx",
      "-y",
      "srv",
      "--policy",
      "x",
    ]);
    expect(a).toEqual({
      policy: "p.yaml",
      mapping: "m.yaml",
      store: "redis://h:6379",
      audit: "a.jsonl",
      identity: "i.json",
      approvalTimeoutMs: 90_000,
      listen: { host: "127.0.0.1", port: 8931 },
      maxSessions: 32,
      showDenied: true,
      upstream: { command: "npx", args: ["-y", "srv", "--policy", "x"] },
    });
    expect(parseProxyArgs(["--policy", "p", "--upstream-url", "http://localhost:3001/mcp"]).upstream).toEqual({
      url: new URL("http://localhost:3001/mcp"),
    });
    expect(parseProxyArgs(["--policy", "p", "--listen", "[::1]:0", "--", "x"]).listen).toEqual({
      host: "::1",
      port: 0,
    });
  });

  it("refuses bad command lines with usage errors that say what to fix", () => {
    const bad: [string[], RegExp][] = [
      [["--", "x"], /--policy is required/],
      [["--policy", "p"], /no upstream server/],
      [["--policy", "p", "--upstream-url", "http://h/mcp", "--", "x"], /either --upstream-url or/],
      [["--policy", "p", "--upstream-url", "file:///etc/passwd"], /must be http/],
      [["--policy", "p", "--store", "memcached://x", "--", "x"], /redis:\/\//],
      [["--policy", "p", "--listen", "localhost", "--", "x"], /HOST:PORT/],
      [["--policy", "p", "--approval-timeout", "soon", "--", "x"], /duration/],
      [["--policy", "p", "--max-sessions", "0", "--", "x"], /--max-sessions must be a whole number >= 1/],
      [["--policy", "p", "--polcy", "q", "--", "x"], /Unknown option '--polcy'/],
    ];
    for (const [argv, message] of bad) {
      let error: unknown;
      try {
        parseProxyArgs(argv);
      } catch (e) {
        error = e;
      }
      expect(error, argv.join(" ")).toBeInstanceOf(CliError);
      expect((error as CliError).exitCode).toBe(2);
      expect((error as CliError).message).toMatch(message);
    }
  });
});

describe("parseDuration", () => {
  it("reads ms, s, m, h and bare milliseconds", () => {
    expect([
      parseDuration("1500", "t"),
      parseDuration("1500ms", "t"),
      parseDuration("30s", "t"),
      parseDuration("5m", "t"),
      parseDuration("1.5h", "t"),
    ]).toEqual([1500, 1500, 30_000, 300_000, 5_400_000]);
    expect(() => parseDuration("-1s", "t")).toThrow(CliError);
    expect(() => parseDuration("999h", "t")).toThrow(/too long/);
  });
});
