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

export const ScriptSyntax = Type.Union([Type.Literal('bash'), Type.Literal('sh'), Type.Literal('python'), Type.Literal('powershell')], {
  description: 'Which interpreter runs the script body.',
});
export type ScriptSyntax = Static<typeof ScriptSyntax>;

const Quantity = Type.String({ minLength: 1, maxLength: 32, description: 'A Kubernetes quantity, e.g. 250m, 1, 256Mi.' });

export const ResourceList = Type.Object({ cpu: Type.Optional(Quantity), memory: Type.Optional(Quantity) }, { additionalProperties: false });
export type ResourceList = Static<typeof ResourceList>;

const VariableValue = Type.Object({ value: Type.String(), sensitive: Type.Optional(Type.Boolean({ default: false })) }, { additionalProperties: false });

/** A package's folder name: also the end of the variable that names its path. */
export const PACKAGE_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$';
/** A header name as HTTP spells one (a token). */
const HEADER_NAME_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$";

export const PACKAGE_FORMATS = ['tar', 'tar.gz', 'zip', 'none'] as const;
export type PackageFormat = (typeof PACKAGE_FORMATS)[number];

const HeaderValue = Type.Object(
  {
    value: Type.String({ maxLength: 8192 }),
    sensitive: Type.Optional(Type.Boolean({ default: false, description: 'Masked wherever it could appear; it reaches the download only.' })),
  },
  { additionalProperties: false },
);

/**
 * A package the step references. `type: "docker"` (an image) is refused; any other package is a
 * file to download — it needs name, url and sha256 (the rules say so with a 422). Other fields a
 * deployment server sends (feed ids, versions) are accepted and ignored.
 */
export const Package = Type.Object(
  {
    type: Type.Optional(
      Type.String({ minLength: 1, description: '"docker" for an image package (refused); leave out, or anything else, for a file package.' }),
    ),
    name: Type.Optional(
      Type.String({
        pattern: PACKAGE_NAME_PATTERN,
        description: 'Folder under packages/ in the workspace; KUBE_WORKER_PACKAGE_<NAME> names its path.',
        examples: ['app'],
      }),
    ),
    url: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 4096,
        description: 'http or https URL under one of the sources this worker allows (KUBE_WORKER_PACKAGE_SOURCES).',
      }),
    ),
    sha256: Type.Optional(
      Type.String({ pattern: '^[A-Fa-f0-9]{64}$', description: 'SHA-256 of the downloaded bytes, hex; checked before anything is unpacked.' }),
    ),
    extract: Type.Optional(
      Type.Union(
        PACKAGE_FORMATS.map((f) => Type.Literal(f)),
        {
          description: "How to unpack it; default: by the end of the URL's file name (.tar, .tar.gz or .tgz, .zip), else none (the file is kept as it is).",
        },
      ),
    ),
    headers: Type.Optional(
      Type.Unsafe<Record<string, Static<typeof HeaderValue>>>({
        type: 'object',
        propertyNames: { pattern: HEADER_NAME_PATTERN },
        additionalProperties: HeaderValue,
        maxProperties: 20,
        description: "HTTP headers of the download, e.g. a feed's API key. Their values never reach the script, the logs, the queue or the Job spec.",
      }),
    ),
    sizeBytes: Type.Optional(
      Type.Integer({ minimum: 0, description: "Expected size, for progress lines; the download may not exceed the worker's maximum either way." }),
    ),
    image: Type.Optional(Type.String()),
    id: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);
export type Package = Static<typeof Package>;

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
          pullPolicy: Type.Optional(Type.Union([Type.Literal('Always'), Type.Literal('IfNotPresent'), Type.Literal('Never')])),
          build: Type.Optional(Type.Unknown({ description: 'An inline execution container to build. Refused: this worker has no Docker.' })),
        },
        { additionalProperties: false },
      ),
    ),
    resources: Type.Optional(Type.Object({ requests: Type.Optional(ResourceList), limits: Type.Optional(ResourceList) }, { additionalProperties: false })),
    timeoutSeconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 7 * 24 * 3600,
        description:
          "Seconds the operation may take from the moment an executor picks it up, the wait for its mutex included; then it fails with DeadlineExceeded (exit code -44). Default: the deployment's KUBE_WORKER_DEFAULT_TIMEOUT_SECONDS.",
      }),
    ),
    isolation: Type.Optional(
      Type.Object(
        {
          level: Type.Union([Type.Literal('full'), Type.Literal('none')], { default: 'none' }),
          mutexName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          mutexTimeoutSeconds: Type.Optional(
            Type.Integer({
              minimum: 0,
              maximum: 7 * 24 * 3600,
              description:
                'Seconds to wait for the mutex before failing with MutexTimeout (exit code -44); never longer than what is left of timeoutSeconds. Default: timeoutSeconds.',
            }),
          ),
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
      Type.Array(Package, {
        maxItems: 100,
        description:
          'Packages the step references: each is downloaded from an allowed source, checked against its SHA-256 and unpacked into packages/<name>/ before the script starts. Docker images are refused.',
      }),
    ),
  },
  {
    additionalProperties: false,
    $id: 'OperationRequest',
    examples: [
      { ticket: 'deploy-42-step-3', pool: 'default', script: { syntax: 'bash', body: 'echo hello' } },
      {
        ticket: 'deploy-42-step-4',
        pool: 'default',
        taskId: 'ServerTasks-1234',
        script: { syntax: 'bash', body: 'bash deploy.sh "$ENVIRONMENT"' },
        files: [{ name: 'deploy.sh', content: 'IyEvYmluL2Jhc2gKZWNobyAiZGVwbG95aW5nIHRvICQxIgo=' }],
        variables: { ENVIRONMENT: { value: 'production' }, DB_PASSWORD: { value: 'hunter2-hunter2', sensitive: true } },
        timeoutSeconds: 600,
      },
    ],
  },
);
export type OperationRequest = Static<typeof OperationRequest>;
