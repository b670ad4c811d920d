/**
 * The operation a deployment server submits: `POST /api/v1/operations`.
 *
 * One TypeBox schema gives the request validation (fastify/ajv), the TypeScript type and the
 * OpenAPI entry. Rules that JSON Schema cannot express (known pools, Docker requirements,
 * quantities, image references, file paths, the 1 MiB payload limit) live in
 * `core/operation-rules.ts`.
 */
import { Type, type Static } from '@sinclair/typebox';

export const TICKET_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$';

export const Ticket = Type.String({
  pattern: TICKET_PATTERN,
  description: 'Operation id: a letter or digit, then up to 62 letters, digits, _ or -.',
  examples: ['deploy-42-step-3'],
});

export const ScriptSyntax = Type.Union(
  [Type.Literal('bash'), Type.Literal('sh'), Type.Literal('python'), Type.Literal('powershell')],
  { description: 'Which interpreter runs the script body.' },
);
export type ScriptSyntax = Static<typeof ScriptSyntax>;

const Quantity = Type.String({ minLength: 1, maxLength: 32, description: 'A Kubernetes quantity, e.g. 250m, 1, 256Mi.' });

export const ResourceList = Type.Object(
  { cpu: Type.Optional(Quantity), memory: Type.Optional(Quantity) },
  { additionalProperties: false },
);
export type ResourceList = Static<typeof ResourceList>;

const VariableValue = Type.Object(
  { value: Type.String(), sensitive: Type.Optional(Type.Boolean({ default: false })) },
  { additionalProperties: false },
);

export const OperationRequest = Type.Object(
  {
    ticket: Type.Optional(Ticket),
    pool: Type.String({ minLength: 1, maxLength: 63, description: 'Worker pool; one this deployment serves.' }),
    taskId: Type.Optional(Type.String({ maxLength: 200, description: 'The server task, for correlation.' })),
    script: Type.Object(
      {
        syntax: ScriptSyntax,
        body: Type.String({ description: 'The script itself.' }),
      },
      { additionalProperties: false },
    ),
    arguments: Type.Optional(Type.Array(Type.String(), { maxItems: 1000 })),
    files: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 255, description: 'Relative path inside the workspace.' }),
            content: Type.String({ contentEncoding: 'base64', description: 'File content, base64.' }),
            sensitive: Type.Optional(Type.Boolean({ default: false })),
          },
          { additionalProperties: false },
        ),
        { maxItems: 1000 },
      ),
    ),
    variables: Type.Optional(
      // Every key reaches the rules (core/operation-rules.ts), which say why a name cannot be used
      // (422). Not Type.Record: its pattern '^(.*)$' lets a key with a line break skip the value's schema.
      Type.Unsafe<Record<string, Static<typeof VariableValue>>>({
        type: 'object',
        additionalProperties: VariableValue,
        description:
          'Become environment variables of the script. A name starts with a letter or _ and holds letters, digits, _, . and -; ' +
          'KUBE_WORKER_*, LD_*, DYLD_*, PATH, BASH_ENV, ENV, SHELLOPTS and BASHOPTS are refused, and NAME=value must fit in 128 KiB.',
      }),
    ),
    container: Type.Optional(
      Type.Object(
        {
          image: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
          pullPolicy: Type.Optional(
            Type.Union([Type.Literal('Always'), Type.Literal('IfNotPresent'), Type.Literal('Never')]),
          ),
          build: Type.Optional(
            Type.Unknown({ description: 'An inline execution container to build. Refused: this worker has no Docker.' }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    resources: Type.Optional(
      Type.Object(
        { requests: Type.Optional(ResourceList), limits: Type.Optional(ResourceList) },
        { additionalProperties: false },
      ),
    ),
    timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 24 * 3600 })),
    isolation: Type.Optional(
      Type.Object(
        {
          level: Type.Union([Type.Literal('full'), Type.Literal('none')], { default: 'none' }),
          mutexName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          mutexTimeoutSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 * 24 * 3600 })),
        },
        { additionalProperties: false },
      ),
    ),
    serviceAccountName: Type.Optional(Type.String({ minLength: 1, maxLength: 253 })),
    requires: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 63 }), {
        maxItems: 20,
        description: 'Capabilities the operation needs from the worker. "docker" is refused.',
      }),
    ),
    packages: Type.Optional(
      Type.Array(
        Type.Object(
          { type: Type.String({ minLength: 1 }), image: Type.Optional(Type.String()), id: Type.Optional(Type.String()) },
          { additionalProperties: true },
        ),
        { maxItems: 100, description: 'Packages the step references. Docker images are refused.' },
      ),
    ),
  },
  { additionalProperties: false, $id: 'OperationRequest' },
);
export type OperationRequest = Static<typeof OperationRequest>;
