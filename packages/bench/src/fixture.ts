import type { PolicyConfig } from "@agentgate/core";

/**
 * The small policy every engine encodes: allow one tool, allow model calls, allow reading
 * files under /workspace, deny shell. Everything else is denied by default.
 */
export const POLICY: PolicyConfig = {
  name: "bench-policy",
  rules: [
    { action: "tool_use", allowed: true, allowedTargets: ["search"] },
    { action: "llm_call", allowed: true },
    { action: "file_read", allowed: true, allowedTargets: ["/workspace/**"] },
    { action: "shell", allowed: false },
  ],
};

/** The same policy with a limit on model calls: what the full gate enforces (and audits). */
export function limitedPolicy(maxPerMinute: number): PolicyConfig {
  return {
    name: "bench-policy",
    rules: POLICY.rules.map((r) => (r.action === "llm_call" ? { ...r, maxPerMinute } : r)),
  };
}

export interface Request {
  action: string;
  target?: string;
}

/** Mixed allow/deny requests, in a fixed order (half allow, half deny). */
export const REQUESTS: readonly Request[] = [
  { action: "tool_use", target: "search" },
  { action: "file_read", target: "/workspace/src/index.ts" },
  { action: "shell", target: "rm -rf /" },
  { action: "llm_call" },
  { action: "tool_use", target: "delete_repository" },
  { action: "file_read", target: "/etc/passwd" },
  { action: "network", target: "https://example.com/" },
  { action: "file_read", target: "/workspace/docs/notes/readme.md" },
];

/** The decisions the policy means, written out by hand: every engine must agree before timing. */
export const EXPECTED: readonly boolean[] = [true, true, false, true, false, false, false, true];

/** Outside the timed mix: targets a model might produce to slip past a glob. */
export const ADVERSARIAL: readonly Request[] = [
  { action: "file_read", target: "/workspace/../etc/passwd" },
  { action: "file_read", target: "/workspace//../../etc/shadow" },
];

export function describeRequest(r: Request): string {
  return r.target === undefined ? r.action : `${r.action} ${r.target}`;
}
