/**
 * The example's functions. They only simulate their effects (nothing is
 * deployed, no command runs) and record what actually executed, so the demo
 * can show that refused calls never reach a function.
 */
export function makeTools(executed: string[]) {
  return {
    search: ({ query }: { query: string }) => {
      executed.push(`search(${query})`);
      return `Top result for "${query}": AgentGate checks every action against a deny-by-default policy.`;
    },
    read_file: ({ path }: { path: string }) => {
      executed.push(`read_file(${path})`);
      return `(contents of ${path})`;
    },
    run_shell: ({ command }: { command: string }) => {
      executed.push(`run_shell(${command})`);
      return `(simulated) $ ${command}`;
    },
    deploy: ({ service, env }: { service: string; env: string }) => {
      executed.push(`deploy(${service}, ${env})`);
      return `Deployed ${service} to ${env}.`;
    },
  };
}

/** The tool definitions the model sees. */
export const toolDefinitions = [
  fn("search", "Search the product documentation.", { query: { type: "string" } }),
  fn("read_file", "Read a file from the workspace.", { path: { type: "string" } }),
  fn("run_shell", "Run a shell command.", { command: { type: "string" } }),
  fn("deploy", "Deploy a service to an environment.", {
    service: { type: "string" },
    env: { type: "string", enum: ["staging", "production"] },
  }),
];

function fn(name: string, description: string, properties: Record<string, unknown>) {
  return {
    type: "function" as const,
    name,
    description,
    strict: true,
    parameters: { type: "object", properties, required: Object.keys(properties), additionalProperties: false },
  };
}

/** How the shared policy sees these tools: files and shell have their own actions. */
export const toolMapping = {
  read_file: { action: "file_read", target: (input: { path?: unknown }) => input.path as string | undefined },
  run_shell: { action: "shell", target: (input: { command?: unknown }) => input.command as string | undefined },
};
