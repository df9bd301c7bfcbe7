import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse as yamlParse, stringify as yamlStringify } from "yaml";
import { PolicyValidationError } from "../errors.js";
import { PermissionPolicy } from "../policy/permission-policy.js";
import { RULE_FIELDS } from "../policy/rule.js";

/**
 * The loader's contract on any input: a complete, valid policy, or a
 * PolicyValidationError listing problems (each with a path, a message and, when
 * known, a line inside the text). Nothing else is ever thrown, and nothing is
 * half-loaded.
 */
function load(text: string): { policy: PermissionPolicy } | { error: PolicyValidationError } {
  try {
    return { policy: PermissionPolicy.parse(text) };
  } catch (error) {
    if (!PolicyValidationError.isInstance(error)) {
      throw new Error(
        `the loader threw something else than PolicyValidationError for ${JSON.stringify(text.slice(0, 300))}: ${String(error)}`,
        { cause: error },
      );
    }
    return { error };
  }
}

const lineCount = (text: string) => text.split(/\r\n|\r|\n/).length;

function checkContract(text: string): "valid" | "invalid" {
  const r = load(text);
  if ("error" in r) {
    const { issues } = r.error;
    expect(issues.length).toBeGreaterThan(0);
    for (const i of issues) {
      expect(typeof i.path).toBe("string");
      expect(i.message.length).toBeGreaterThan(0);
      if (i.line !== undefined) {
        expect(Number.isInteger(i.line)).toBe(true);
        expect(i.line).toBeGreaterThanOrEqual(1);
        expect(i.line).toBeLessThanOrEqual(lineCount(text) + 1);
      }
    }
    expect(Object.isFrozen(issues)).toBe(true);
    return "invalid";
  }
  const { policy } = r;
  // Complete: exactly what an independent YAML reader sees, field by field.
  const data = yamlParse(text, { uniqueKeys: true, maxAliasCount: 100 }) as Record<string, unknown>;
  const rulesIn = (data.rules ?? []) as Record<string, unknown>[];
  expect(policy.name).toBe(data.name);
  expect(policy.rules).toHaveLength(rulesIn.length);
  rulesIn.forEach((raw, i) => {
    const expected: Record<string, unknown> = {};
    for (const [camel, snake] of RULE_FIELDS) if (raw[snake] !== undefined) expected[camel] = raw[snake];
    expect({ ...policy.rules[i] }).toEqual(expected);
  });
  // Immutable, and stable through save and reload.
  expect(Object.isFrozen(policy.rules)).toBe(true);
  for (const rule of policy.rules) expect(Object.isFrozen(rule)).toBe(true);
  expect(PermissionPolicy.parse(policy.stringify()).toJSON()).toEqual(policy.toJSON());
  expect(new PermissionPolicy(policy.toJSON()).toJSON()).toEqual(policy.toJSON());
  return "valid";
}

// ---------------------------------------------------------------------------
// Structured documents: policy-shaped data with hostile values, serialised by
// the yaml package in block or flow style.

const scalar = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    "",
    " ",
    "shell",
    "tool_use",
    "file_read",
    "network",
    "**",
    "/w/**",
    "https://api.example.com/**",
    "{a,b",
    "a}",
    "x\\",
    "\0",
    "__proto__",
    "null",
    "~",
    "yes",
    "no",
    "0x10",
    "1e400",
    ".nan",
    "-.inf",
  ),
  fc.integer({ min: -3, max: 1e6 }),
  fc.double({ noNaN: false }),
  fc.boolean(),
  fc.constant(null),
);
const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { weight: 6, arbitrary: scalar },
    { weight: 1, arbitrary: fc.array(tie("v"), { maxLength: 3 }) },
    {
      weight: 1,
      arbitrary: fc.dictionary(fc.constantFrom("a", "allowed", "__proto__", "constructor"), tie("v"), { maxKeys: 2 }),
    },
  ),
})).v;
const globs = fc.array(
  fc.oneof(
    fc.constantFrom(
      "search",
      "/w/**",
      "**/.env",
      "https://api.example.com/**",
      "*",
      "{x,y}",
      "/etc/",
      "{a",
      "",
      "HTTPS://X/**",
    ),
    scalar,
  ),
  { maxLength: 3 },
);
const ruleKey = fc.constantFrom(
  ...RULE_FIELDS.map((f) => f[1]),
  "allowedTargets",
  "max_per_min",
  "__proto__",
  "constructor",
  "<<",
);
const rule = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record(
      {
        action: fc.oneof(
          fc.constantFrom(
            "tool_use",
            "llm_call",
            "file_read",
            "file_write",
            "network",
            "shell",
            "data_access",
            "custom",
            "",
            " ",
          ),
          scalar,
        ),
        allowed: fc.oneof(fc.boolean(), scalar),
        allowed_targets: globs,
        denied_targets: globs,
        escalate_targets: globs,
        require_approval: fc.oneof(fc.boolean(), scalar),
        max_per_minute: fc.oneof(fc.nat(100), scalar),
        escalate_after: fc.oneof(fc.nat(100), scalar),
        deny_after: fc.oneof(fc.nat(100), scalar),
        description: fc.oneof(fc.string({ maxLength: 10 }), scalar),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: fc.dictionary(ruleKey, value, { maxKeys: 4 }) },
  { weight: 1, arbitrary: value },
);
const document = fc.record(
  {
    name: fc.oneof(fc.constantFrom("p", "policy", ""), scalar),
    description: fc.oneof(fc.string({ maxLength: 10 }), scalar),
    rules: fc.oneof({ weight: 5, arbitrary: fc.array(rule, { maxLength: 4 }) }, { weight: 1, arbitrary: value }),
    extra: value,
  },
  { requiredKeys: [] },
);

// Mostly valid policies (so the "valid" branch of the contract is exercised every run).
const poolFor: Record<string, string[]> = {
  tool_use: ["search", "deploy-*", "{a,b}", "*"],
  llm_call: ["gpt-*", "**"],
  file_read: ["/workspace/**", "**/.env", "/etc/**", "*.pem"],
  network: ["https://api.example.com/**", "https://*.example.com/**", "*://evil.test/**"],
  custom: ["x", "y/**"],
};
const validRule = fc.constantFrom(...Object.keys(poolFor)).chain((action) =>
  fc.record(
    {
      action: fc.constant(action),
      allowed: fc.boolean(),
      allowed_targets: fc.subarray(poolFor[action]!),
      denied_targets: fc.subarray(poolFor[action]!),
      escalate_targets: fc.subarray(poolFor[action]!),
      require_approval: fc.boolean(),
      max_per_minute: fc.nat(100),
      escalate_after: fc.nat(100),
      deny_after: fc.nat(100),
      description: fc.string({ maxLength: 10 }),
    },
    { requiredKeys: ["action"] },
  ),
);
const validDocument = fc.record(
  {
    name: fc.constantFrom("p", "policy", "ops policy"),
    description: fc.string({ maxLength: 10 }),
    rules: fc.uniqueArray(validRule, { maxLength: 5, selector: (r) => r.action }),
  },
  { requiredKeys: ["name"] },
);

// Valid seeds to mutate: every feature of the format.
const SEEDS = [
  `# policy
name: ops # inline comment
description: "Ops"
rules:
  - action: tool_use
    allowed: true
    allowed_targets: [search, "deploy-*"]
    escalate_targets: [deploy-*]
    max_per_minute: 30
  - action: file_read
    allowed: true
    allowed_targets: ["/workspace/**"]
    denied_targets: ['**/.env']
  - action: shell
    allowed: false
    description: never
`,
  "name: p\nrules:\n  - {action: network, allowed: true, allowed_targets: ['https://api.example.com/**'], deny_after: 3}\n",
  "name: anchors\nrules:\n  - &r {action: a, allowed: true}\n  - action: b\n    allowed_targets: &t [x, y]\n    denied_targets: *t\n",
  "name: empty\n",
  "name: p\r\nrules:\r\n  - action: llm_call\r\n    allowed: true\r\n    escalate_after: 5\r\n",
];
const special = fc.constantFrom(
  ":",
  "-",
  " ",
  "  ",
  "\n",
  "\t",
  "{",
  "}",
  "[",
  "]",
  ",",
  "&a",
  "*a",
  "!!str",
  "!!binary",
  "!x",
  "#",
  "'",
  '"',
  "|",
  ">",
  "%YAML 1.1\n",
  "---\n",
  "...\n",
  "?",
  "@",
  "`",
  "\\",
  "\0",
  "\uFEFF",
  "__proto__: ",
  "<<: ",
  "\r\n",
  "0x",
  ".5",
  "-1",
  "1e400",
);
const mutation = fc.record({
  at: fc.nat(),
  del: fc.nat(4),
  insert: fc.array(special, { maxLength: 3 }).map((xs) => xs.join("")),
});

describe("YAML loader fuzz: a valid policy or PolicyValidationError, never anything else, never partial", () => {
  it("on random policy-shaped documents (block and flow style)", () => {
    let valid = 0;
    fc.assert(
      fc.property(fc.oneof(document, validDocument), fc.boolean(), (doc, flow) => {
        const text = yamlStringify(doc, flow ? { collectionStyle: "flow" } : {});
        if (checkContract(text) === "valid") valid++;
      }),
      { numRuns: 500 },
    );
    // The generator reaches both outcomes (a fuzz that only ever sees errors proves little).
    expect(valid).toBeGreaterThan(50);
  });

  it("on mutations of valid policies (inserted YAML syntax, deletions)", () => {
    fc.assert(
      fc.property(fc.constantFrom(...SEEDS), fc.array(mutation, { minLength: 1, maxLength: 4 }), (seed, muts) => {
        let text = seed;
        for (const m of muts) {
          const at = m.at % (text.length + 1);
          text = text.slice(0, at) + m.insert + text.slice(at + m.del);
        }
        checkContract(text);
      }),
      { numRuns: 700 },
    );
    for (const seed of SEEDS) expect(checkContract(seed)).toBe("valid");
  });

  it("on random text", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(special, fc.string({ maxLength: 4 }), fc.constantFrom("name", "rules", "action", "allowed", "true")),
          { maxLength: 30 },
        ),
        (parts) => {
          checkContract(parts.join(""));
        },
      ),
      { numRuns: 800 },
    );
  });

  it("on hostile shapes: deep nesting, alias bombs, many documents, huge scalars, odd encodings", () => {
    const bomb = [
      "a: &a [x, x, x, x, x, x, x, x, x]",
      ...["b", "c", "d", "e", "f", "g"].map((k, i) => `${k}: &${k} [${Array(9).fill(`*${"abcdefg"[i]}`).join(", ")}]`),
      "name: p",
    ].join("\n");
    const cases = [
      `name: p\nrules: ${"[".repeat(50_000)}${"]".repeat(50_000)}`,
      `name: p\nrules: ${"{a: ".repeat(5_000)}1${"}".repeat(5_000)}`,
      `name: p\nrules:\n${Array.from({ length: 2_000 }, (_, i) => `${" ".repeat(i)}- `).join("\n")}x`,
      bomb,
      `name: p\nrules:\n  - &x {action: a}\n${Array.from({ length: 200 }, (_, i) => `  - *x # ${i}`).join("\n")}`,
      "name: p\n---\nname: q\n",
      `name: ${"x".repeat(1 << 20)}\nrules: []\n`,
      "\uFEFFname: p\nrules: []\n",
      "name: p\nrules: []\n\0",
      "name: !!binary aGVsbG8=\nrules: []\n",
      "name: p\nrules: !!set {a, b}\n",
      "%YAML 1.1\n---\nname: p\nrules: !!omap [{a: 1}]\n",
      "? [a, b]\n: 1\nname: p\n",
      "? {a: 1}\n: 1\nname: p\n",
      "name: &n p\n*n : 2\n",
      "name: p\nrules:\n  - action: x\n    action: y\n",
      "",
      "---",
      "~",
      "[]",
      "'just a string'",
      "name: p\nrules:\n  - action: tool_use\n    allowed: true\n    max_per_minute: 9007199254740993\n",
    ];
    for (const text of cases) checkContract(text);
    expect(checkContract(`name: ${"x".repeat(1 << 20)}\nrules: []\n`)).toBe("valid");
    expect(checkContract(bomb)).toBe("invalid");
  });
});

describe("found by the fuzz", () => {
  it("an anchor with an invisible character loads only if it can be saved again", () => {
    // The yaml parser accepts "&\uFEFFr" but refuses to write it: parse used to succeed and stringify() to throw.
    const text = "name: p\nrules:\n  - &\uFEFFr {action: a, allowed: true}\n";
    const error = (() => {
      try {
        PermissionPolicy.parse(text);
      } catch (e) {
        return e;
      }
    })();
    expect(PolicyValidationError.isInstance(error)).toBe(true);
    expect((error as PolicyValidationError).issues[0]!.message).toMatch(/cannot be written back.*Anchor/);
    expect(checkContract("name: p\nrules:\n  - &r {action: a, allowed: true}\n")).toBe("valid");
  });
});

describe("found by the fuzz (2)", () => {
  it("a mapping tagged !!str is refused: the parser guessed, and saving wrote another policy", () => {
    // Loaded as a rule, then toYaml() wrote "!!str undefined", which no longer reloads.
    expect(() => PermissionPolicy.parse("name: p\nrules:\n  - !!str {action: a, allowed: true}\n")).toThrow(
      /line 3.*YAML: .*tag/s,
    );
    expect(() => PermissionPolicy.parse("name: !custom p\nrules: []\n")).toThrow(PolicyValidationError);
    expect(checkContract("name: !!str p\nrules: []\n")).toBe("valid");
  });
});
