// Store conformance suite. Filled in by the shared-store work.
export {};
