// Node-only helpers (file-backed audit). Filled in by the durable audit work.
export {};
