/** The built-in action kinds. Custom action strings are allowed too. */
export const Action = {
  TOOL_USE: "tool_use",
  LLM_CALL: "llm_call",
  FILE_READ: "file_read",
  FILE_WRITE: "file_write",
  NETWORK: "network",
  SHELL: "shell",
  DATA_ACCESS: "data_access",
} as const;

/** A built-in action kind. */
export type BuiltInAction = (typeof Action)[keyof typeof Action];

/** An action name: a built-in kind or any custom, non-empty string. */
export type ActionName = BuiltInAction | (string & {});

/** The three possible verdicts. */
export const DecisionType = {
  ALLOW: "allow",
  DENY: "deny",
  ESCALATE: "escalate",
} as const;

/** `"allow" | "deny" | "escalate"` */
export type DecisionType = (typeof DecisionType)[keyof typeof DecisionType];
