/**
 * Values for the fuzzer: valid ones generated from a JSON Schema (as the OpenAPI document gives
 * it), and the hostile ones it mutates them with — wrong types, sizes, unicode, NUL, names that
 * mean something to Redis, BullMQ, JavaScript or a shell environment, deep nesting.
 */
import { matching } from './pattern.js';
import type { Random } from './random.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export interface Schema {
  $ref?: string;
  type?: string;
  anyOf?: Schema[];
  oneOf?: Schema[];
  enum?: Json[];
  const?: Json;
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  examples?: Json[];
}

/** Key names of BullMQ's queue (a job id equal to one of them shares its key), and of JavaScript objects. */
export const RESERVED_NAMES = [
  'wait',
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'paused',
  'completed',
  'failed',
  'events',
  'meta',
  'id',
  'marker',
  'stalled',
  'stalled-check',
  'limiter',
  'repeat',
  'pc',
  'de',
  'metrics',
  'lock',
  'logs',
  'priority',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
];
const DIGITS = ['0', '1', '12345', '007', '4294967296', '99999999999999999999999'];
const UNICODE = [
  'é',
  'ß',
  '日本語',
  '🚀',
  'e\u0301',
  '\u202eevil',
  '\ufeffbom',
  '\ud800',
  '\udfff',
  '\u2028',
  'Ä'.repeat(70),
  '\u0000',
  'a\u0000b',
  '\n',
  '\r\n',
  '\t',
];
const SYNTAX = ['', ' ', '..', '../x', '%00', '%2F', '$(id)', '`id`', '${HOME}', "'", '"', '\\', '*', '{}', 'null', 'true', 'NaN', '-1', '1e999', 'a=b', '=x'];
/** Environment names a caller should not be able to set, or that break a runtime. */
const ENV_NAMES = [
  'PATH',
  'LD_PRELOAD',
  'LD_LIBRARY_PATH',
  'KUBE_WORKER_TICKET',
  'KUBE_WORKER_WORKSPACE',
  'HOME',
  'IFS',
  'BASH_ENV',
  'ENV',
  'A=B',
  '',
  '1X',
  'REDIS_URL',
];
const NUMBERS: Json[] = [0, -1, 1, -0, 0.5, 1e-7, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 18446744073709551616, 1e308, -1e308];
const WRONG_TYPES: Json[] = [null, true, false, 0, -1, 1.5, '', 'text', [], {}, [1, 'a', null], { a: 1 }];
/** A fresh copy each time: mutate() changes values in place, and a shared one could come to hold itself. */
const wrongType = (random: Random): Json => structuredClone(random.pick(WRONG_TYPES));

export const interestingStrings = [...RESERVED_NAMES, ...DIGITS, ...UNICODE, ...SYNTAX, ...ENV_NAMES];

/** Script bodies that are safe to run and say something. Any other body is prefixed by SAFE_PREFIX. */
export const SAFE_BODIES = ['echo ok', 'exit 3', 'echo "$KUBE_WORKER_TICKET"; echo err >&2', 'printf "%s\\n" "$@"', '# nothing to do'];
/** A generated body is data, never a program: the interpreters stop at this first line. */
export const SAFE_PREFIX = 'exit 0\n';

/** Values the fuzzer knows make sense for a property, so that valid requests get past the first check. */
const HINTS: Record<string, (random: Random, pools: string[]) => Json> = {
  pool: (random, pools) => (random.chance(0.9) ? random.pick(pools) : random.pick(['nowhere', 'Default', ...RESERVED_NAMES])),
  body: (random) => random.pick(SAFE_BODIES),
  cpu: (random) => random.pick(['250m', '1', '0.5', '100m', '64', '1e3', 'abc']),
  memory: (random) => random.pick(['256Mi', '1Gi', '128M', '64Gi', '1e9', '-1', 'lots']),
  image: (random) => random.pick(['ghcr.io/acme/tools:1.2', 'busybox', 'registry.local:5000/x/y@sha256:' + 'a'.repeat(64), 'UPPER/case', 'a'.repeat(300)]),
  name: (random) => random.pick(['config/app.json', 'a.txt', 'deep/er/file', '.hidden', 'x']),
  content: (random) => Buffer.from(random.pick(['hello', '{"a":1}', '', '\u0000\u0001'])).toString('base64'),
  serviceAccountName: (random) => random.pick(['deployer', 'default']),
  mutexName: (random) => random.pick(['prod-db', 'm', ...RESERVED_NAMES]),
};

function resolve(schema: Schema, components: Record<string, Schema>): Schema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.split('/').pop()!;
  const target = components[name];
  if (!target) throw new Error(`unresolved $ref ${schema.$ref}`);
  return resolve(target, components);
}

export interface GenerateContext {
  random: Random;
  components: Record<string, Schema>;
  pools: string[];
}

function randomText(random: Random, min: number, max: number): string {
  const length = random.int(min, Math.min(max, min + 24));
  let text = '';
  for (let i = 0; i < length; i += 1) text += String.fromCharCode(random.int(0x61, 0x7a));
  return text;
}

/** A value valid against `schema`; `name` is the property it is for. */
export function generate(schema: Schema, context: GenerateContext, name = '', depth = 0): Json {
  const { random } = context;
  const s = resolve(schema, context.components);
  if (s.anyOf || s.oneOf) return generate(random.pick((s.anyOf ?? s.oneOf)!), context, name, depth);
  if (s.const !== undefined) return s.const;
  if (s.enum) return random.pick(s.enum);
  // A dictionary of names that mean something to BullMQ or JavaScript, for the ticket in particular.
  if (s.pattern && name === 'ticket' && random.chance(0.15)) return random.pick([...RESERVED_NAMES, ...DIGITS].filter((t) => new RegExp(s.pattern!).test(t)));
  const hint = HINTS[name];
  if (hint && (s.type === 'string' || s.type === undefined) && !s.pattern) return hint(random, context.pools);
  switch (s.type) {
    case 'string':
      if (s.pattern) return matching(s.pattern, random);
      if (s.format === 'byte') return Buffer.from(randomText(random, 0, 40)).toString('base64');
      return randomText(random, s.minLength ?? 0, s.maxLength ?? 40);
    case 'integer':
    case 'number':
      return random.int(s.minimum ?? 0, Math.min(s.maximum ?? 10_000, (s.minimum ?? 0) + 10_000));
    case 'boolean':
      return random.chance(0.5);
    case 'array':
      return Array.from({ length: random.int(0, Math.min(s.maxItems ?? 3, 3)) }, () => generate(s.items ?? {}, context, name, depth + 1));
    case 'object': {
      const value: Record<string, Json> = {};
      for (const [key, property] of Object.entries(s.properties ?? {})) {
        if (s.required?.includes(key) || random.chance(0.35)) value[key] = generate(property, context, key, depth + 1);
      }
      if (typeof s.additionalProperties === 'object') {
        for (let i = random.int(0, 3); i > 0; i -= 1)
          value[matching('^[A-Z_][A-Z0-9_]{0,10}$', random)] = generate(s.additionalProperties, context, '', depth + 1);
      }
      return value;
    }
    default:
      return depth > 3 ? null : wrongType(random);
  }
}

/** A string of `length` characters drawn from a hostile alphabet. */
function hostileText(random: Random, length: number): string {
  const alphabet = random.pick(['x', 'é', '🚀', '\u0000', '"', '\\', ' ', '\n']);
  return random.chance(0.5)
    ? alphabet.repeat(length)
    : Array.from({ length: Math.min(length, 4096) }, () => random.pick(interestingStrings))
        .join('')
        .slice(0, length);
}

/**
 * Deep nesting travels as a placeholder inside the value and is spelled out in the JSON text
 * (withNesting): a value nested thousands deep cannot be stringified on a test worker's stack.
 */
const NESTING = /"\\u0001nest:(\d+):([ao])"/g;

function nested(random: Random, depth: number): Json {
  return `\u0001nest:${depth}:${random.pick(['a', 'o'])}`;
}

/** The JSON text with each nesting placeholder replaced by [[[…]]] or {"a":{"a":…}}. */
export function withNesting(json: string): string {
  return json.replace(NESTING, (_, depth: string, kind: string) => {
    const n = Number(depth);
    return kind === 'a' ? `${'['.repeat(n)}1${']'.repeat(n)}` : `${'{"a":'.repeat(n)}null${'}'.repeat(n)}`;
  });
}

/** One hostile replacement for a value. */
export function hostile(random: Random): Json {
  switch (random.int(0, 9)) {
    case 0:
    case 1:
      return wrongType(random);
    case 2:
    case 3:
    case 4:
      return random.pick(interestingStrings);
    case 5:
      return random.pick(NUMBERS);
    case 6:
      return hostileText(random, random.pick([64, 256, 4096, 70_000]));
    case 7:
      return random.chance(0.05) ? hostileText(random, random.pick([1_100_000, 2_000_000])) : hostileText(random, random.int(0, 600));
    case 8:
      return nested(random, random.pick([10, 100, 1000, 10_000, 100_000]));
    default:
      return random.pick(interestingStrings) + random.pick(interestingStrings);
  }
}

/** Replaces, removes or adds one thing somewhere in `value` (which it changes in place); returns the new root. */
export function mutate(value: Json, random: Random): Json {
  const nodes: Array<{ parent: Json[] | Record<string, Json>; key: string | number }> = [];
  // Without recursion: an earlier mutation may have nested a value 100,000 deep.
  for (const pending: Json[] = [value]; pending.length > 0;) {
    const node = pending.pop()!;
    const children: Array<[string | number, Json]> = Array.isArray(node)
      ? node.map((child, i) => [i, child])
      : node && typeof node === 'object'
        ? Object.entries(node)
        : [];
    for (const [key, child] of children) {
      nodes.push({ parent: node as Json[] | Record<string, Json>, key });
      pending.push(child);
    }
  }
  if (nodes.length === 0 || random.chance(0.03)) return hostile(random);
  const { parent, key } = random.pick(nodes);
  const action = random.int(0, 9);
  if (action === 0 && !Array.isArray(parent)) delete parent[key as string];
  else if (action === 1 && !Array.isArray(parent))
    parent[random.pick([...RESERVED_NAMES, ...ENV_NAMES, 'unknown'])] = random.chance(0.5) ? hostile(random) : { value: String(hostile(random)) };
  else (parent as Record<string, Json>)[key as string] = hostile(random);
  return value;
}
