import { AgentGateError } from "../errors/agent-gate-error.js";
import { fromHex, subtle, toBytes, toHex } from "./encoding.js";

/** Signature schemes: HMAC-SHA256 with a shared secret, or an Ed25519 key pair. */
export type SigningAlgorithm = "HS256" | "Ed25519";

export interface AgentIdentityOptions {
  capabilities?: readonly string[];
  metadata?: Record<string, unknown>;
  /** Default `"HS256"`. Use `"Ed25519"` when third parties must verify with a public key. */
  algorithm?: SigningAlgorithm;
}

/** The public part of an identity: what `JSON.stringify(identity)` shows. */
export interface PublicIdentity {
  id: string;
  name: string;
  capabilities: string[];
  createdAt: string;
  metadata: Record<string, unknown>;
  algorithm: SigningAlgorithm;
  publicKeyJwk?: JsonWebKey;
}

/** An identity with its key material, as plain JSON. Keep it secret. */
export interface ExportedIdentity extends PublicIdentity {
  version: 1;
  /** HS256: the HMAC secret as hex. */
  secret?: string;
  /** Ed25519: the private key as a JWK. */
  privateKeyJwk?: JsonWebKey;
}

/** A JSON Web Key, as Web Crypto imports and exports it. */
export interface JsonWebKey {
  kty?: string;
  crv?: string;
  x?: string;
  d?: string;
  [key: string]: unknown;
}

type Subtle = ReturnType<typeof subtle>;
type CryptoKey = Awaited<ReturnType<Subtle["importKey"]>>;
type CryptoKeyPair = { privateKey: CryptoKey; publicKey: CryptoKey };

const SIG_HEX_LENGTH: Record<SigningAlgorithm, number> = { HS256: 64, Ed25519: 128 };
const INSPECT = Symbol.for("nodejs.util.inspect.custom");

interface KeyMaterial {
  secret?: Uint8Array<ArrayBuffer>;
  hmacKey?: CryptoKey;
  privateKey?: CryptoKey;
  publicKey?: CryptoKey;
  privateKeyJwk?: JsonWebKey;
  publicKeyJwk?: JsonWebKey;
}

function invalid(message: string): AgentGateError {
  return new AgentGateError("AGENTGATE_IDENTITY_INVALID", message);
}

/**
 * A cryptographic identity for one agent. Key material lives in private
 * fields: it never shows in `JSON.stringify`, `String()` or `console.log`.
 */
export class AgentIdentity {
  readonly id: string;
  readonly name: string;
  readonly capabilities: readonly string[];
  readonly createdAt: Date;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly algorithm: SigningAlgorithm;
  readonly #keys: KeyMaterial;

  private constructor(
    pub: Omit<PublicIdentity, "publicKeyJwk" | "createdAt"> & { createdAt: Date },
    keys: KeyMaterial,
  ) {
    this.id = pub.id;
    this.name = pub.name;
    this.capabilities = Object.freeze([...pub.capabilities]);
    this.createdAt = pub.createdAt;
    this.metadata = Object.freeze({ ...pub.metadata });
    this.algorithm = pub.algorithm;
    this.#keys = keys;
  }

  /** Creates an identity with a fresh UUID v4 and fresh key material. */
  static async create(name: string, options: AgentIdentityOptions = {}): Promise<AgentIdentity> {
    if (typeof name !== "string" || name.trim() === "")
      throw new TypeError("AgentIdentity name must be a non-empty string");
    const algorithm = options.algorithm ?? "HS256";
    const capabilities = validateCapabilities(options.capabilities ?? []);
    const base = {
      id: globalThis.crypto.randomUUID(),
      name,
      capabilities,
      createdAt: new Date(),
      metadata: options.metadata ?? {},
      algorithm,
    };
    if (algorithm === "HS256") {
      const secret = new Uint8Array(32);
      globalThis.crypto.getRandomValues(secret);
      return new AgentIdentity(base, { secret });
    }
    if (algorithm === "Ed25519") {
      const pair = (await subtle().generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
      const privateKeyJwk = (await subtle().exportKey("jwk", pair.privateKey)) as JsonWebKey;
      const publicKeyJwk = publicOnly((await subtle().exportKey("jwk", pair.publicKey)) as JsonWebKey);
      return new AgentIdentity(base, {
        privateKey: pair.privateKey,
        publicKey: pair.publicKey,
        privateKeyJwk,
        publicKeyJwk,
      });
    }
    throw new TypeError(`Unknown signing algorithm ${JSON.stringify(algorithm)} (use "HS256" or "Ed25519")`);
  }

  /** Rebuilds an identity, key included, from `export()` output. */
  static async import(data: ExportedIdentity | string): Promise<AgentIdentity> {
    const d = (typeof data === "string" ? JSON.parse(data) : data) as Partial<ExportedIdentity> | null;
    if (!d || typeof d !== "object") throw invalid("identity data must be an object");
    if (typeof d.id !== "string" || d.id === "") throw invalid("identity data: id must be a non-empty string");
    if (typeof d.name !== "string" || d.name === "") throw invalid("identity data: name must be a non-empty string");
    const createdAt = new Date(d.createdAt ?? Number.NaN);
    if (Number.isNaN(createdAt.getTime())) throw invalid("identity data: createdAt must be an ISO date");
    const base = {
      id: d.id,
      name: d.name,
      capabilities: validateCapabilities(d.capabilities ?? []),
      createdAt,
      metadata: d.metadata && typeof d.metadata === "object" ? d.metadata : {},
      algorithm: d.algorithm ?? "HS256",
    };
    if (base.algorithm === "HS256") {
      const secret = typeof d.secret === "string" ? fromHex(d.secret) : undefined;
      if (!secret || secret.length < 32) throw invalid("identity data: HS256 needs a hex secret of at least 32 bytes");
      return new AgentIdentity(base, { secret });
    }
    if (base.algorithm === "Ed25519") {
      if (!d.privateKeyJwk || typeof d.privateKeyJwk !== "object")
        throw invalid("identity data: Ed25519 needs privateKeyJwk");
      try {
        const privateKey = await subtle().importKey("jwk", d.privateKeyJwk, { name: "Ed25519" }, true, ["sign"]);
        const publicKeyJwk = publicOnly(d.privateKeyJwk);
        const publicKey = await subtle().importKey("jwk", publicKeyJwk, { name: "Ed25519" }, true, ["verify"]);
        return new AgentIdentity(base, { privateKey, publicKey, privateKeyJwk: d.privateKeyJwk, publicKeyJwk });
      } catch (cause) {
        throw new AgentGateError(
          "AGENTGATE_IDENTITY_INVALID",
          "identity data: privateKeyJwk is not a valid Ed25519 key",
          { cause },
        );
      }
    }
    throw invalid(`identity data: unknown algorithm ${JSON.stringify(base.algorithm)}`);
  }

  /** Signs a message; returns a lowercase hex signature. */
  async sign(message: string | Uint8Array): Promise<string> {
    const data = toBytes(message);
    if (this.algorithm === "HS256") {
      const sig = await subtle().sign("HMAC", await this.#hmacKey(), data);
      return toHex(new Uint8Array(sig));
    }
    const sig = await subtle().sign({ name: "Ed25519" }, this.#keys.privateKey!, data);
    return toHex(new Uint8Array(sig));
  }

  /**
   * Verifies a signature made by this identity. Constant-time (Web Crypto);
   * returns `false`, never throws, for malformed or foreign signatures.
   */
  async verify(message: string | Uint8Array, signature: string): Promise<boolean> {
    try {
      if (typeof signature !== "string" || signature.length !== SIG_HEX_LENGTH[this.algorithm]) return false;
      const sig = fromHex(signature);
      if (!sig) return false;
      const data = toBytes(message);
      if (this.algorithm === "HS256") return await subtle().verify("HMAC", await this.#hmacKey(), sig, data);
      return await subtle().verify({ name: "Ed25519" }, this.#keys.publicKey!, sig, data);
    } catch {
      return false;
    }
  }

  /**
   * Verifies an Ed25519 signature with a public JWK alone, as a third party
   * would. Returns `false`, never throws, for anything malformed.
   */
  static async verifyWithPublicKey(
    publicKeyJwk: JsonWebKey,
    message: string | Uint8Array,
    signature: string,
  ): Promise<boolean> {
    try {
      if (typeof signature !== "string" || signature.length !== 128) return false;
      const sig = fromHex(signature);
      if (!sig) return false;
      const key = await subtle().importKey("jwk", publicOnly(publicKeyJwk), { name: "Ed25519" }, false, ["verify"]);
      return await subtle().verify({ name: "Ed25519" }, key, sig, toBytes(message));
    } catch {
      return false;
    }
  }

  /** Ed25519: the public key as a public-only JWK (no `d`). HS256: `undefined`. */
  publicKeyJwk(): JsonWebKey | undefined {
    return this.#keys.publicKeyJwk ? { ...this.#keys.publicKeyJwk } : undefined;
  }

  /** The identity with its key as plain JSON, for `AgentIdentity.import`. Treat it as a secret. */
  export(): ExportedIdentity {
    const out: ExportedIdentity = { version: 1, ...this.toJSON() };
    if (this.#keys.secret) out.secret = toHex(this.#keys.secret);
    if (this.#keys.privateKeyJwk) out.privateKeyJwk = { ...this.#keys.privateKeyJwk };
    return out;
  }

  /** The public part only: never the secret. */
  toJSON(): PublicIdentity {
    const out: PublicIdentity = {
      id: this.id,
      name: this.name,
      capabilities: [...this.capabilities],
      createdAt: this.createdAt.toISOString(),
      metadata: { ...this.metadata },
      algorithm: this.algorithm,
    };
    const jwk = this.publicKeyJwk();
    if (jwk) out.publicKeyJwk = jwk;
    return out;
  }

  toString(): string {
    return `AgentIdentity(${this.name}, ${this.id}, ${this.algorithm})`;
  }

  [INSPECT](): PublicIdentity {
    return this.toJSON();
  }

  async #hmacKey(): Promise<CryptoKey> {
    this.#keys.hmacKey ??= await subtle().importKey(
      "raw",
      this.#keys.secret!,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    return this.#keys.hmacKey;
  }
}

function publicOnly(jwk: JsonWebKey): JsonWebKey {
  if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.x !== "string") {
    throw new TypeError("expected an Ed25519 JWK (kty OKP, crv Ed25519)");
  }
  return { kty: "OKP", crv: "Ed25519", x: jwk.x };
}

function validateCapabilities(caps: readonly unknown[]): string[] {
  if (!Array.isArray(caps) || caps.some((c) => typeof c !== "string")) {
    throw new TypeError("capabilities must be an array of strings");
  }
  return caps as string[];
}
