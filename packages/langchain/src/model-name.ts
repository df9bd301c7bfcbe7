/**
 * The `llm_call` target: the model's name as LangChain traces it
 * (`ls_model_name`, e.g. "gpt-4o-mini"), else the model's own fields, else its class name.
 */
export function modelNameOf(model: unknown): string {
  if (typeof model !== "object" || model === null) return "unknown";
  const m = model as Record<string, unknown>;
  try {
    if (typeof m.getLsParams === "function") {
      const name = (m.getLsParams as (o: object) => Record<string, unknown>).call(model, {})?.ls_model_name;
      if (typeof name === "string" && name !== "") return name;
    }
  } catch {
    // Some integrations read call options here; fall through to plain fields.
  }
  for (const key of ["model", "modelName"]) {
    const v = m[key];
    if (typeof v === "string" && v !== "") return v;
  }
  try {
    if (typeof m.getName === "function") {
      const name = (m.getName as () => unknown).call(model);
      if (typeof name === "string" && name !== "") return name;
    }
  } catch {
    // fall through
  }
  return "unknown";
}

/** The same name from what a callback sees: tracing metadata, invocation params, the serialised model. */
export function modelNameFromCallback(
  serialized: unknown,
  extraParams: Record<string, unknown> | undefined,
  metadata: Record<string, unknown> | undefined,
): string {
  const fromMeta = metadata?.ls_model_name;
  if (typeof fromMeta === "string" && fromMeta !== "") return fromMeta;
  const params = extraParams?.invocation_params as Record<string, unknown> | undefined;
  for (const key of ["model", "model_name", "modelName"]) {
    const v = params?.[key];
    if (typeof v === "string" && v !== "") return v;
  }
  const s = serialized as { id?: unknown; kwargs?: Record<string, unknown> } | undefined;
  for (const key of ["model", "model_name", "modelName"]) {
    const v = s?.kwargs?.[key];
    if (typeof v === "string" && v !== "") return v;
  }
  if (Array.isArray(s?.id)) {
    const last = s.id[s.id.length - 1];
    if (typeof last === "string" && last !== "") return last;
  }
  return "unknown";
}
