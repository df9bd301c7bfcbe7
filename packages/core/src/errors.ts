// Kept so that existing relative imports of "./errors.js" keep working. Source files import
// the one class they need from errors/<name>.ts, which keeps the import graph free of cycles.
export * from "./errors/index.js";
