import { assertGateKeeper, admitModelCall, safeOwn } from "@agentgate/core/internal";
import type { GateKeeper } from "@agentgate/core";
import type OpenAI from "openai";

/** The request paths that call a model (trailing slashes and a query string aside). */
const MODEL_PATH = /^\/(chat\/completions|responses|completions)\/*(\?|$)/;

type RequestOptions = { method?: unknown; path?: unknown; body?: unknown };
type Hooked = { prepareOptions(options: RequestOptions): Promise<void> };

/**
 * Returns a copy of the client (`client.withOptions({})`) whose model requests (`chat.completions.create`,
 * `responses.create`, their `stream` / `parse` helpers and the `runTools` runner, legacy `completions.create`)
 * are first checked as `llm_call` with the request's `model` as target, so `max_per_minute` on `llm_call`
 * applies. Anything but ALLOW rejects with a {@link ModelCallDeniedError} (`retryAfterMs` for rate limits)
 * before the request is sent; the SDK's own retries of an allowed request are not counted again. A model call
 * cannot wait for a human: ESCALATE is refused unless the gate's `approvalHandler` approves it inline.
 *
 * @example
 * const client = gateModelCalls(new OpenAI(), gate);
 * await client.responses.create({ model: "gpt-5-mini", input: "hi" }); // checked first
 */
export function gateModelCalls<Client extends OpenAI>(client: Client, gate: GateKeeper): Client {
  if (!client || typeof (client as Partial<OpenAI>).withOptions !== "function")
    throw new TypeError("gateModelCalls: `client` must be an OpenAI client");
  assertGateKeeper(gate, "gateModelCalls");
  return gateCopy(client.withOptions({}) as Client, gate);
}

/** Replaces one of the copy's methods with an own property (the original stays on the prototype). */
const override = (target: object, key: string, value: unknown) =>
  Object.defineProperty(target, key, { configurable: true, writable: true, value });

function gateCopy<Client extends OpenAI>(gated: Client, gate: GateKeeper): Client {
  const prepare = (gated as unknown as Hooked).prepareOptions.bind(gated);
  // The SDK retries with the same options object: a retry of an admitted request is not a new model call.
  const admitted = new WeakSet<object>();
  override(gated, "prepareOptions", async (options: RequestOptions) => {
    await prepare(options);
    if (!isModelRequest(options) || admitted.has(options)) return;
    const model =
      typeof options.body === "object" && options.body !== null ? safeOwn(options.body, "model") : undefined;
    await admitModelCall(gate, typeof model === "string" && model !== "" ? model : undefined);
    admitted.add(options);
  });
  // A copy made from the gated client (`withOptions({ timeout })`) is gated too.
  const withOptions = gated.withOptions.bind(gated);
  override(gated, "withOptions", (options: Parameters<OpenAI["withOptions"]>[0]) =>
    gateCopy(withOptions(options) as Client, gate),
  );
  return gated;
}

function isModelRequest(options: RequestOptions): boolean {
  const { method, path } = options ?? {};
  return (
    typeof method === "string" && method.toLowerCase() === "post" && typeof path === "string" && MODEL_PATH.test(path)
  );
}
