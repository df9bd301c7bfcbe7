/** Imports a workspace package that may not be built yet; the report says which were missing and why. */
export async function optionalImport<T>(specifier: string): Promise<{ module?: T; error?: string }> {
  try {
    return { module: (await import(specifier)) as T };
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const why =
      e.code === "ERR_MODULE_NOT_FOUND" || e.code === "ERR_PACKAGE_PATH_NOT_EXPORTED"
        ? "its `dist` is not built"
        : e.message;
    return { error: `${e.code ?? "error"}: ${why}` };
  }
}
