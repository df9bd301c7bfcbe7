/**
 * The commented starter policy `agentgate init` writes. It has a rule for
 * every built-in action kind and shows every rule field once; it validates.
 */
export const STARTER_POLICY = `# AgentGate policy. Deny by default: an action with no rule here is refused.
# Check a decision:  agentgate check policy.yaml file_read /workspace/notes.md
# Reference: every rule takes the fields below (all optional except action).
#   allowed           true to grant the action (default false: denied)
#   allowed_targets   globs; when set, a target is required and must match one
#   denied_targets    globs; a match is denied, whatever else the rule says
#   escalate_targets  globs; a match is allowed only after a human approves
#   require_approval  true: every use needs a human
#   max_per_minute    sliding 60 s window; over it the call is denied
#   escalate_after    after this many allowed uses, further uses need a human
#   deny_after        after this many allowed uses, further uses are denied
# Globs: * any characters but "/", ** anything, ? one character, {a,b} either.
name: starter-policy
description: Starter policy written by agentgate init; edit it to fit your agent
rules:
  # Tools the agent may call, by name. Deploys need a human.
  - action: tool_use
    description: Named tools only
    allowed: true
    allowed_targets: [search, get_weather, deploy]
    escalate_targets: [deploy]
    max_per_minute: 30

  # Model calls: a per-minute budget keeps runaway loops cheap,
  # and a long session needs a human to continue.
  - action: llm_call
    allowed: true
    max_per_minute: 20
    escalate_after: 200

  # Reading files: inside the workspace, never secrets or keys.
  # File targets are normalised first, so /workspace/../etc/passwd never matches.
  - action: file_read
    allowed: true
    allowed_targets: ["/workspace/**"]
    denied_targets: ["**/.env", "**/*.pem", "/workspace/secrets/**"]

  # Writing files: inside the workspace, and a human approves every write.
  - action: file_write
    allowed: true
    allowed_targets: ["/workspace/**"]
    require_approval: true

  # Network: only HTTPS to one API. URLs are parsed first, so user-info tricks never match.
  - action: network
    allowed: true
    allowed_targets: ["https://api.example.com/**"]
    max_per_minute: 10

  # Data access: read the public tables; customer data needs a human,
  # and after 100 lookups the agent is cut off.
  - action: data_access
    allowed: true
    allowed_targets: ["public.*"]
    escalate_targets: ["customers.*"]
    deny_after: 100

  # No shell, ever. (Leaving the rule out would deny it too; this says why.)
  - action: shell
    allowed: false
    description: Agents never get a shell
`;
