import { Document, isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from "yaml";
import type { PolicyIssue } from "../errors/policy-validation-error.js";
import { RULE_FIELDS, type PolicyConfig } from "./rule.js";
import { validatePolicy } from "./validate.js";

/** A parsed and validated YAML policy, with the document kept for lossless saving. */
export interface ParsedYamlPolicy {
  config?: PolicyConfig;
  issues: PolicyIssue[];
  document?: Document;
}

const MAX_ALIAS_COUNT = 100;

/**
 * Parses YAML policy text. Builds plain data from the syntax tree itself
 * (prototype-free objects) and records each key's and value's line, so every
 * problem can say where it is.
 */
export function parsePolicyYaml(text: string): ParsedYamlPolicy {
  return parseWith(text, true);
}

function parseWith(text: string, checkRoundTrip: boolean): ParsedYamlPolicy {
  if (typeof text !== "string") return { issues: [{ path: "", message: "policy YAML must be a string" }] };
  const lineCounter = new LineCounter();
  const document = parseDocument(text, {
    lineCounter,
    uniqueKeys: true,
    prettyErrors: false,
    keepSourceTokens: false,
    logLevel: "error",
  });
  const lineAt = (offset: number | undefined) => (offset === undefined ? undefined : lineCounter.linePos(offset).line);
  // Warnings too (an unresolved or mismatched tag such as `!!str` on a mapping): the
  // parser guesses, and a policy must not rest on a guess.
  const problems = [
    ...document.errors.map((e) => ["YAML syntax", e] as const),
    ...document.warnings.map((w) => ["YAML", w] as const),
  ];
  if (problems.length > 0) {
    return {
      issues: problems.map(([kind, e]) => {
        const line = e.linePos?.[0]?.line ?? lineAt(e.pos[0]);
        const message = `${kind}: ${e.message.split("\n")[0]}`;
        return line === undefined ? { path: "", message } : { path: "", message, line };
      }),
    };
  }
  const lines = new Map<string, { key?: number; value?: number }>();
  let aliases = 0;
  const toPlain = (node: unknown, path: string, depth: number): unknown => {
    if (depth > 64) throw new RangeError("nested too deeply");
    if (isAlias(node)) {
      if (++aliases > MAX_ALIAS_COUNT) throw new RangeError("too many aliases");
      return toPlain(node.resolve(document), path, depth + 1);
    }
    const n = node as Node | null;
    if (n && (n as { range?: [number, number, number] }).range) {
      const entry = lines.get(path) ?? {};
      entry.value ??= lineAt((n as { range: [number, number, number] }).range[0]);
      lines.set(path, entry);
    }
    if (isMap(node)) {
      const out: Record<string, unknown> = Object.create(null);
      for (const pair of node.items) {
        const keyNode = pair.key;
        const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
        const childPath = path === "" ? key : `${path}.${key}`;
        const keyRange = (keyNode as { range?: [number, number, number] } | null)?.range;
        lines.set(childPath, { key: lineAt(keyRange?.[0]) });
        Object.defineProperty(out, key, {
          value: toPlain(pair.value, childPath, depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    if (isSeq(node)) return node.items.map((item, i) => toPlain(item, `${path}[${i}]`, depth + 1));
    if (isScalar(node)) return node.value;
    return node ?? null;
  };
  let data: unknown;
  try {
    data = toPlain(document.contents, "", 0);
  } catch (error) {
    return { issues: [{ path: "", message: `YAML structure: ${(error as Error).message}` }] };
  }
  const { issues, config } = validatePolicy(data, "snake", (path, at) => {
    const entry = lines.get(path);
    return at === "key" ? (entry?.key ?? entry?.value) : (entry?.value ?? entry?.key);
  });
  if (!config) return { issues };
  if (checkRoundTrip) {
    // The document is kept for lossless saving, so saving must give back this very policy.
    // The parser accepts a few things its writer cannot reproduce (an anchor with a BOM in
    // it); refuse them here rather than fail, or write another policy, in toYaml() later.
    let saved: string;
    try {
      saved = document.toString();
    } catch (error) {
      return {
        issues: [{ path: "", message: `YAML that cannot be written back: ${(error as Error).message.split("\n")[0]}` }],
      };
    }
    const again = parseWith(saved, false).config;
    if (again === undefined || JSON.stringify(again) !== JSON.stringify(config)) {
      return {
        issues: [
          {
            path: "",
            message:
              "YAML that does not survive being written back (a tag, anchor or style the writer cannot reproduce)",
          },
        ],
      };
    }
  }
  return { issues, config, document };
}

/** The YAML data (snake_case keys, canonical order) for a config. */
export function policyToYamlData(config: PolicyConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { name: config.name };
  if (config.description !== undefined) out.description = config.description;
  out.rules = config.rules.map((rule) => {
    const r: Record<string, unknown> = {};
    for (const [camel, snake] of RULE_FIELDS) {
      const v = rule[camel];
      if (v !== undefined) r[snake] = Array.isArray(v) ? [...v] : v;
    }
    return r;
  });
  return out;
}

/** Renders a config as a fresh YAML document. */
export function configToDocument(config: PolicyConfig): Document {
  return new Document(policyToYamlData(config));
}
