/**
 * The `llm_call` target: the model's name as LangChain traces it
 * (`ls_model_name`, e.g. "gpt-4o-mini"), else the model's own fields, else its class name.
 */
export function modelNameOf(model: unknown): string {
  type Model = { model?: unknown; modelName?: unknown; getName?: () => unknown };
  const m = (model ?? {}) as Model & { getLsParams?: (options: object) => { ls_model_name?: unknown } };
  // Some integrations read call options in getLsParams: a throw falls through to plain fields.
  return firstName(
    attempt(() => m.getLsParams?.({})?.ls_model_name),
    m.model,
    m.modelName,
    attempt(() => m.getName?.()),
  );
}

/** The same name from what a callback sees: tracing metadata, invocation params, the serialised model. */
export function modelNameFromCallback(serialized: unknown, extra?: Record<string, unknown>, metadata?: object): string {
  const params = (extra?.invocation_params ?? {}) as Record<string, unknown>;
  const { id, kwargs = {} } = (serialized ?? {}) as { id?: unknown; kwargs?: Record<string, unknown> };
  const keys = ["model", "model_name", "modelName"];
  const meta = (metadata as { ls_model_name?: unknown } | undefined)?.ls_model_name;
  return firstName(meta, ...keys.map((k) => params[k]), ...keys.map((k) => kwargs[k]), Array.isArray(id) && id.at(-1));
}

function firstName(...candidates: unknown[]): string {
  return (candidates.find((name) => typeof name === "string" && name !== "") as string | undefined) ?? "unknown";
}

function attempt(read: () => unknown): unknown {
  try {
    return read();
  } catch {
    return undefined;
  }
}
