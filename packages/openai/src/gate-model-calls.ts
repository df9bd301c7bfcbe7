import { errorText } from "@agentgate/core/internal";
import { Action, type Decision, type GateKeeper } from "@agentgate/core";
import type OpenAI from "openai";
import { ModelCallDeniedError } from "./model-call-denied-error.js";

/** The request paths that call a model. */
const MODEL_PATHS = new Set(["/chat/completions", "/responses", "/completions"]);

type RequestOptions = { method?: unknown; path?: unknown; body?: unknown };
type Hooked = { prepareOptions(options: RequestOptions): Promise<void> };

/**
 * Returns a copy of the client (`client.withOptions({})`) whose model
 * requests (`chat.completions.create`, `responses.create`, their `stream` /
 * `parse` helpers and the `runTools` runner, legacy `completions.create`) are
 * first checked as `llm_call` with the request's `model` as target, so
 * `max_per_minute` on `llm_call` applies. Anything but ALLOW rejects with a
 * {@link ModelCallDeniedError} (`retryAfterMs` for rate limits) before the
 * request is sent; the SDK's own retries of an allowed request are not counted
 * again. A model call cannot wait for a human: ESCALATE is refused unless the
 * gate's `approvalHandler` approves it inline.
 *
 * @example
 * const client = gateModelCalls(new OpenAI(), gate);
 * await client.responses.create({ model: "gpt-5-mini", input: "hi" }); // checked first
 */
export function gateModelCalls<Client extends OpenAI>(client: Client, gate: GateKeeper): Client {
  if (!client || typeof (client as Partial<OpenAI>).withOptions !== "function")
    throw new TypeError("gateModelCalls: `client` must be an OpenAI client");
  if (!gate || typeof (gate as Partial<GateKeeper>).check !== "function")
    throw new TypeError("gateModelCalls: `gate` must be a GateKeeper");
  return gateCopy(client.withOptions({}) as Client, gate);
}

function gateCopy<Client extends OpenAI>(gated: Client, gate: GateKeeper): Client {
  const hooked = gated as unknown as Hooked;
  const prepare = hooked.prepareOptions.bind(gated);
  // The SDK retries with the same options object: a retry of an admitted request is not a new model call.
  const admitted = new WeakSet<object>();
  Object.defineProperty(gated, "prepareOptions", {
    configurable: true,
    writable: true,
    value: async (options: RequestOptions) => {
      await prepare(options);
      if (!isModelRequest(options) || admitted.has(options)) return;
      const model = modelOf(options.body);
      await checkModelCall(gate, model);
      admitted.add(options);
    },
  });
  // A copy made from the gated client (`withOptions({ timeout })`) is gated too.
  const withOptions = gated.withOptions.bind(gated);
  Object.defineProperty(gated, "withOptions", {
    configurable: true,
    writable: true,
    value: (options: Parameters<OpenAI["withOptions"]>[0]) => gateCopy(withOptions(options) as Client, gate),
  });
  return gated;
}

/**
 * Checks one model call as `llm_call` (target: the model name) and throws a
 * {@link ModelCallDeniedError} unless the gate allows it. For loops that call
 * a client `gateModelCalls` cannot wrap.
 */
export async function checkModelCall(gate: GateKeeper, model: string | undefined): Promise<Decision> {
  const target = model === undefined ? {} : { target: model };
  const decision = await gate.check(Action.LLM_CALL, target).catch((error: unknown) => {
    const reason = `AgentGate could not check the model call (${errorText(error)}), so it was refused`;
    return gate.refuse(Action.LLM_CALL, reason, target);
  });
  if (decision.type !== "allow") throw new ModelCallDeniedError(decision, model);
  return decision;
}

function isModelRequest(options: RequestOptions): boolean {
  const method = typeof options?.method === "string" ? options.method.toLowerCase() : "";
  return (
    method === "post" &&
    typeof options.path === "string" &&
    MODEL_PATHS.has(options.path.split("?")[0]!.replace(/\/+$/, ""))
  );
}

function modelOf(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const model = (body as { model?: unknown }).model;
  return typeof model === "string" && model !== "" ? model : undefined;
}
