const KEYS = ["model", "model_name", "modelName"];

/**
 * The `llm_call` target: the model's name as LangChain traces it
 * (`ls_model_name`, e.g. "gpt-4o-mini"), else the model's own fields, else its class name.
 */
export function modelNameOf(model: unknown): string {
  if (typeof model !== "object" || model === null) return "unknown";
  const m = model as Record<string, unknown> & {
    getLsParams?: (options: object) => { ls_model_name?: unknown } | undefined;
    getName?: () => unknown;
  };
  // Some integrations read call options in getLsParams: a throw falls through to plain fields.
  return firstName(
    attempt(() => m.getLsParams?.({})?.ls_model_name),
    m.model,
    m.modelName,
    attempt(() => m.getName?.()),
  );
}

/** The same name from what a callback sees: tracing metadata, invocation params, the serialised model. */
export function modelNameFromCallback(
  serialized: unknown,
  extraParams: Record<string, unknown> | undefined,
  metadata: Record<string, unknown> | undefined,
): string {
  const params = extraParams?.invocation_params as Record<string, unknown> | undefined;
  const s = serialized as { id?: unknown; kwargs?: Record<string, unknown> } | undefined;
  return firstName(
    metadata?.ls_model_name,
    ...KEYS.map((key) => params?.[key]),
    ...KEYS.map((key) => s?.kwargs?.[key]),
    Array.isArray(s?.id) ? s.id.at(-1) : undefined,
  );
}

function firstName(...candidates: unknown[]): string {
  for (const name of candidates) if (typeof name === "string" && name !== "") return name;
  return "unknown";
}

function attempt(read: () => unknown): unknown {
  try {
    return read();
  } catch {
    return undefined;
  }
}
