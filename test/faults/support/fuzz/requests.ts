/**
 * Requests generated from the OpenAPI document the dispatcher serves: each documented operation
 * with parameters and a body valid against its schema, or mutated — in its values, or in how it
 * travels (duplicated keys, broken JSON, the wrong content type, odd authorization).
 */
import type { Random } from './random.js';
import { generate, hostile, interestingStrings, mutate, RESERVED_NAMES, SAFE_BODIES, SAFE_PREFIX, withNesting, type Json, type Schema } from './values.js';

export interface OpenApiDocument {
  paths: Record<
    string,
    Record<string, { parameters?: Array<{ in: string; name: string; schema: Schema }>; requestBody?: { content: Record<string, { schema: Schema }> } }>
  >;
  components: { schemas: Record<string, Schema> };
}

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** What was done to it, for the report: "valid", "mutated body", "duplicated key", … */
  how: string[];
}

interface Endpoint {
  method: string;
  path: string;
  parameters: Array<{ in: string; name: string; schema: Schema }>;
  body?: Schema;
}

export function endpoints(doc: OpenApiDocument): Endpoint[] {
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      method: method.toUpperCase(),
      path,
      parameters: operation.parameters ?? [],
      body: operation.requestBody?.content['application/json']?.schema,
    })),
  );
}

/** encodeURIComponent, but a lone surrogate travels as its raw UTF-8 bytes instead of throwing. */
function encode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return [...Buffer.from(text)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  }
}

const CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'APPLICATION/JSON',
  'application/problem+json',
  'application/json, text/plain',
  'application/xml',
  '',
];
const BROKEN_BODIES = [
  '',
  'null',
  '[]',
  '"text"',
  '0',
  'NaN',
  '{',
  '{"pool":',
  '{"pool":"default"}}',
  '\ufeff{}',
  '{"__proto__":{"admin":true}}',
  '{"constructor":{"prototype":{"x":1}}}',
  '\u0000',
];

export class RequestFactory {
  private readonly endpoints: Endpoint[];
  /** Tickets this run chose for its submissions, so later reads, cancels and deletes hit real operations. */
  private readonly tickets: string[] = [];

  constructor(
    private readonly doc: OpenApiDocument,
    private readonly pools: string[],
    private readonly token: string,
  ) {
    this.endpoints = endpoints(doc);
  }

  next(random: Random): FuzzRequest {
    // Submissions first among equals: they reach the most code.
    const endpoint = random.chance(0.45) ? this.endpoints.find((e) => e.method === 'POST' && e.body)! : random.pick(this.endpoints);
    const how: string[] = [];
    const context = { random, components: this.doc.components.schemas, pools: this.pools };
    let path = endpoint.path;
    const query: string[] = [];
    for (const parameter of endpoint.parameters) {
      let value: string;
      if (parameter.name === 'ticket' && this.tickets.length > 0 && random.chance(0.6)) value = random.pick(this.tickets);
      else value = String(generate(parameter.schema, context, parameter.name));
      if (random.chance(0.2)) {
        const bad = hostile(random);
        value = typeof bad === 'string' ? bad : JSON.stringify(bad);
        how.push(`hostile ${parameter.name}`);
      }
      if (parameter.in === 'path') path = path.replace(`{${parameter.name}}`, encode(value).slice(0, 100_000));
      else if (random.chance(0.8)) query.push(`${parameter.name}=${encode(value).slice(0, 10_000)}`);
    }
    if (random.chance(0.05)) {
      query.push(`${random.pick(['afterSequence', 'limit', 'follow', '__proto__'])}=${encode(String(random.pick(interestingStrings)))}`);
      how.push('extra query');
    }
    if (query.length > 0) path += `?${query.join('&')}`;

    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (random.chance(0.04)) {
      const auth = random.pick([
        '',
        'Bearer',
        'Bearer ',
        `Bearer ${this.token}x`,
        `bearer ${this.token}`,
        `Basic ${Buffer.from('a:b').toString('base64')}`,
        `Bearer ${'x'.repeat(10_000)}`,
        `Bearer ${this.token.slice(0, -1)}`,
      ]);
      if (auth) headers.authorization = auth;
      else delete headers.authorization;
      how.push('authorization');
    }

    let body: string | undefined;
    if (endpoint.body) {
      let value: Json = generate(endpoint.body, context);
      for (let n = random.chance(0.6) ? random.int(1, 3) : 0; n > 0; n -= 1) {
        value = mutate(value, random);
        how.push('mutated body');
      }
      value = this.makeSafe(value);
      body = withNesting(JSON.stringify(value));
      headers['content-type'] = 'application/json';
      if (random.chance(0.04)) {
        body = `{"ticket":${JSON.stringify(random.pick([...RESERVED_NAMES, '12345']))},"pool":"nowhere",${body.slice(1)}`;
        how.push('duplicated keys');
      }
      if (random.chance(0.03)) {
        body = random.pick(BROKEN_BODIES);
        how.push('broken JSON');
      }
      if (random.chance(0.03)) {
        body = body.slice(0, random.int(0, body.length));
        how.push('truncated JSON');
      }
      if (random.chance(0.04)) {
        const type = random.pick(CONTENT_TYPES);
        if (type) headers['content-type'] = type;
        else delete headers['content-type'];
        how.push('content type');
      }
    } else if (random.chance(0.03)) {
      body = random.pick(BROKEN_BODIES) || '{}';
      headers['content-type'] = random.pick(['application/json', 'text/plain']);
      how.push('unexpected body');
    }
    return { method: endpoint.method, path, headers, ...(body === undefined ? {} : { body }), how: how.length > 0 ? how : ['valid'] };
  }

  /**
   * Remembers the ticket, and keeps the script harmless: whatever else was mutated, a body that is
   * not one of the known-safe ones only starts with a line that ends the script.
   */
  private makeSafe(value: Json): Json {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
    if (typeof value.ticket === 'string') this.tickets.push(value.ticket);
    const script = value.script;
    if (script && typeof script === 'object' && !Array.isArray(script) && typeof script.body === 'string' && !SAFE_BODIES.includes(script.body)) {
      script.body = SAFE_PREFIX + script.body;
    }
    return value;
  }
}
