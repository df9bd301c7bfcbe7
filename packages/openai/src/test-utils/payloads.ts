/** Chat Completions and Responses API payloads in the shapes the API sends (recorded, ids shortened). */
import type { ResponseFunctionToolCall } from "openai/resources/responses/responses";

type Call = { id: string; name: string; arguments: string };

export function chatCompletion(message: { content?: string | null; tool_calls?: Call[] }, model = "gpt-4.1-mini") {
  return {
    id: `chatcmpl-${Math.random().toString(36).slice(2, 10)}`,
    object: "chat.completion",
    created: 1764250000,
    model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: message.content ?? null,
          refusal: null,
          annotations: [],
          ...(message.tool_calls
            ? {
                tool_calls: message.tool_calls.map((c) => ({
                  id: c.id,
                  type: "function",
                  function: { name: c.name, arguments: c.arguments },
                })),
              }
            : {}),
        },
        logprobs: null,
        finish_reason: message.tool_calls ? "tool_calls" : "stop",
      },
    ],
    usage: { prompt_tokens: 80, completion_tokens: 20, total_tokens: 100 },
    service_tier: "default",
    system_fingerprint: "fp_test",
  };
}

/** The chunks of a streamed chat completion: tool call arguments arrive in pieces. */
export function chatChunks(message: { content?: string; tool_calls?: Call[] }, model = "gpt-4.1-mini") {
  const base = {
    id: "chatcmpl-stream",
    object: "chat.completion.chunk",
    created: 1764250000,
    model,
    system_fingerprint: "fp_test",
  };
  const chunks: unknown[] = [
    {
      ...base,
      choices: [
        {
          index: 0,
          delta: { role: "assistant", content: message.content ? "" : null, refusal: null },
          logprobs: null,
          finish_reason: null,
        },
      ],
    },
  ];
  if (message.content) {
    for (const part of message.content.match(/.{1,6}/gs) ?? []) {
      chunks.push({ ...base, choices: [{ index: 0, delta: { content: part }, logprobs: null, finish_reason: null }] });
    }
  }
  message.tool_calls?.forEach((c, index) => {
    chunks.push({
      ...base,
      choices: [
        {
          index: 0,
          delta: { tool_calls: [{ index, id: c.id, type: "function", function: { name: c.name, arguments: "" } }] },
          logprobs: null,
          finish_reason: null,
        },
      ],
    });
    for (const part of c.arguments.match(/.{1,5}/gs) ?? []) {
      chunks.push({
        ...base,
        choices: [
          {
            index: 0,
            delta: { tool_calls: [{ index, function: { arguments: part } }] },
            logprobs: null,
            finish_reason: null,
          },
        ],
      });
    }
  });
  chunks.push({
    ...base,
    choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: message.tool_calls ? "tool_calls" : "stop" }],
  });
  return chunks;
}

export function functionCallItem(c: Call): ResponseFunctionToolCall & { id: string } {
  return {
    id: `fc_${c.id}`,
    type: "function_call",
    status: "completed",
    arguments: c.arguments,
    call_id: c.id,
    name: c.name,
  };
}

export function messageItem(text: string) {
  return {
    id: "msg_1",
    type: "message",
    status: "completed",
    role: "assistant",
    content: [{ type: "output_text", text, annotations: [], logprobs: [] }],
  };
}

export function response(
  output: unknown[],
  model = "gpt-4.1-mini",
  id = `resp_${Math.random().toString(36).slice(2, 10)}`,
) {
  return {
    id,
    object: "response",
    created_at: 1764250000,
    status: "completed",
    background: false,
    error: null,
    incomplete_details: null,
    instructions: null,
    max_output_tokens: null,
    model,
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: true,
    temperature: 1,
    text: { format: { type: "text" }, verbosity: "medium" },
    tool_choice: "auto",
    tools: [],
    top_p: 1,
    truncation: "disabled",
    usage: {
      input_tokens: 80,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 20,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 100,
    },
    user: null,
    metadata: {},
  };
}

/** The SSE events of a streamed response with function calls. */
export function responseEvents(calls: Call[], model = "gpt-4.1-mini") {
  const final = response(calls.map(functionCallItem), model, "resp_stream");
  const events: any[] = [];
  let seq = 0;
  const push = (e: Record<string, unknown>) => events.push({ ...e, sequence_number: seq++ });
  push({ type: "response.created", response: { ...final, status: "in_progress", output: [], usage: null } });
  push({ type: "response.in_progress", response: { ...final, status: "in_progress", output: [], usage: null } });
  calls.forEach((c, output_index) => {
    const item = functionCallItem(c);
    push({ type: "response.output_item.added", output_index, item: { ...item, status: "in_progress", arguments: "" } });
    for (const delta of c.arguments.match(/.{1,5}/gs) ?? []) {
      push({ type: "response.function_call_arguments.delta", item_id: item.id, output_index, delta });
    }
    push({
      type: "response.function_call_arguments.done",
      item_id: item.id,
      output_index,
      arguments: c.arguments,
      name: c.name,
    });
    push({ type: "response.output_item.done", output_index, item });
  });
  push({ type: "response.completed", response: final });
  return events;
}
