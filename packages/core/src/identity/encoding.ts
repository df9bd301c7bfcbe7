const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += HEX[b];
  return out;
}

/** Bytes of a lowercase or uppercase hex string, or `undefined` when malformed. */
export function fromHex(hex: string): Uint8Array<ArrayBuffer> | undefined {
  if (typeof hex !== "string" || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

const encoder = new TextEncoder();

/** UTF-8 bytes of a string, or a copy of the bytes given. */
export function toBytes(message: string | Uint8Array): Uint8Array<ArrayBuffer> {
  if (typeof message === "string") return encoder.encode(message);
  if (message instanceof Uint8Array) return new Uint8Array(message);
  throw new TypeError("message must be a string or a Uint8Array");
}

/** Web Crypto: available in Node >= 20, Deno, Bun, browsers and edge runtimes. */
export function subtle(): typeof globalThis.crypto.subtle {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new Error("AgentGate needs Web Crypto (globalThis.crypto.subtle), which this runtime lacks");
  return s;
}
