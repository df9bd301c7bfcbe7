import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A stand-in for the Responses API on 127.0.0.1, so the example runs
 * offline with the real `openai` client. Its "model" first asks for four
 * tools in parallel; once it has their outputs it answers with a summary of
 * what each returned, refusals included, so you can see what the model read.
 */
export async function startFakeResponsesServer(): Promise<{
  baseURL: string;
  requests: unknown[];
  close: () => Promise<void>;
}> {
  const requests: unknown[] = [];
  // Like the API, it keeps each response, so a request can continue one with `previous_response_id`.
  const stored = new Map<string, Record<string, unknown>[]>();
  const server: Server = createServer(async (req, res) => {
    let text = "";
    for await (const chunk of req) text += chunk;
    const body = JSON.parse(text || "{}") as { model?: string; input?: unknown; previous_response_id?: string };
    requests.push(body);
    const input = Array.isArray(body.input) ? (body.input as Record<string, unknown>[]) : [];
    const outputs = input.filter((item) => item.type === "function_call_output");
    const earlier = [...(stored.get(body.previous_response_id ?? "") ?? []), ...input];
    const calls = new Map(
      earlier.filter((item) => item.type === "function_call").map((item) => [item.call_id, item.name]),
    );
    const output =
      outputs.length === 0
        ? [
            call("call_search", "search", { query: "AgentGate quick start" }),
            call("call_secret", "read_file", { path: "/workspace/secrets/api-token.txt" }),
            call("call_shell", "run_shell", { command: "cat /etc/passwd" }),
            call("call_deploy", "deploy", { service: "docs-site", env: "production" }),
          ]
        : [
            message(
              outputs
                .map((o) => `${String(calls.get(o.call_id) ?? o.call_id)}: ${summary(String(o.output))}`)
                .join("\n"),
            ),
          ];
    const id = `resp_${requests.length}`;
    stored.set(id, [...earlier, ...output]);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ id, object: "response", created_at: 0, status: "completed", model: body.model, output }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function call(call_id: string, name: string, args: unknown) {
  return {
    id: `fc_${call_id}`,
    type: "function_call",
    status: "completed",
    call_id,
    name,
    arguments: JSON.stringify(args),
  };
}

function message(text: string) {
  return {
    id: "msg_final",
    type: "message",
    status: "completed",
    role: "assistant",
    content: [{ type: "output_text", text, annotations: [] }],
  };
}

/** How the fake model reads a tool output: a denial's reason, or the result. */
function summary(output: string): string {
  try {
    const parsed = JSON.parse(output) as { denied?: boolean; reason?: string };
    if (parsed?.denied) return `refused (${parsed.reason})`;
  } catch {
    // Not JSON: a plain result.
  }
  return output;
}
