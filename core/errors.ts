/**
 * The catalogue of API errors. Each has a stable `code` that clients can branch on and the HTTP
 * status it maps to; the `detail` of each instance says what to fix (`example`: one such detail,
 * shown in the OpenAPI document).
 */
export const ERRORS = {
  KW_ERR_VALIDATION: { status: 400, title: 'The request is malformed', example: 'body.script.syntax must be equal to one of the allowed values' },
  KW_ERR_UNAUTHORIZED: { status: 401, title: 'A valid bearer token is required', example: 'send Authorization: Bearer <token>' },
  KW_ERR_DASHBOARD_UNAUTHORIZED: {
    status: 401,
    title: 'The dashboard credentials are required',
    example: 'sign in with the dashboard user and password (KUBE_WORKER_DASHBOARD_USER and KUBE_WORKER_DASHBOARD_PASSWORD)',
  },
  KW_ERR_NOT_FOUND: {
    status: 404,
    title: 'No such operation',
    example: 'no operation has ticket "deploy-42-step-3" (it may have been completed with DELETE or expired)',
  },
  KW_ERR_ROUTE_NOT_FOUND: { status: 404, title: 'No such route', example: 'GET /api/v1/operation is not a route of this API' },
  KW_ERR_TICKET_CONFLICT: {
    status: 409,
    title: 'The ticket exists with a different operation',
    example: 'ticket "deploy-42-step-3" was already submitted with a different operation; use a new ticket, or send exactly the same body to retry',
  },
  KW_ERR_NOT_FINISHED: {
    status: 409,
    title: 'The operation has not finished',
    example: 'operation "deploy-42-step-3" is running; cancel it or wait for it to finish before completing it',
  },
  KW_ERR_REQUEST_TIMEOUT: {
    status: 408,
    title: 'The request was not received in time',
    example: 'the request did not arrive whole within 30 s (KUBE_WORKER_REQUEST_TIMEOUT_SECONDS)',
  },
  KW_ERR_TOO_LARGE: {
    status: 413,
    title: 'The operation is too large',
    example: 'the request body is larger than the server accepts; script, files and variables must come to at most 1 MiB',
  },
  KW_ERR_URI_TOO_LONG: {
    status: 414,
    title: 'The request path is too long',
    example: 'a part of the path is longer than any ticket; a ticket has at most 63 characters',
  },
  KW_ERR_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    title: 'The body must be application/json',
    example: 'send the operation as JSON with Content-Type: application/json',
  },
  KW_ERR_HEADERS_TOO_LARGE: { status: 431, title: 'The request headers are too large', example: 'the request headers are larger than the server accepts' },
  KW_ERR_UNKNOWN_POOL: { status: 422, title: 'This worker does not serve that pool', example: 'pool: "gpu" is not served here; this worker serves "default"' },
  KW_ERR_DOCKER_UNSUPPORTED: {
    status: 422,
    title: 'This worker has no Docker',
    example: 'requires: this operation needs Docker, which this worker does not have. Run it on a worker with Docker.',
  },
  KW_ERR_UNSUPPORTED_REQUIREMENT: {
    status: 422,
    title: 'This worker cannot meet a requirement',
    example: 'requires: "windows" is not a capability this worker offers.',
  },
  KW_ERR_INVALID_QUANTITY: {
    status: 422,
    title: 'A resource quantity is invalid',
    example: 'resources.requests.memory: "lots" is not a positive Kubernetes quantity (e.g. 256Mi or 1Gi).',
  },
  KW_ERR_RESOURCES_EXCEED_MAXIMUM: {
    status: 422,
    title: 'The resources asked for exceed what this worker allows',
    example: 'resources.limits.memory: 64Gi is more than this worker allows (at most 8Gi); ask for less or raise the maximum (KUBE_WORKER_SCRIPT_MAX_MEMORY).',
  },
  KW_ERR_INVALID_IMAGE: {
    status: 422,
    title: 'The container image reference cannot be valid',
    example: 'container.image: "Ubuntu:Latest" cannot be a valid image reference: a repository name is lower case.',
  },
  KW_ERR_INVALID_FILE: {
    status: 422,
    title: 'A file cannot be placed in the workspace',
    example: 'files: "../etc/passwd" must be a relative path inside the workspace, like config/app.json.',
  },
  KW_ERR_INVALID_VARIABLE: {
    status: 422,
    title: 'A variable cannot be given to the script',
    example: 'variables: "PATH": the runtime finds the interpreter through PATH; extend it inside the script instead: export PATH="/your/bin:$PATH".',
  },
  KW_ERR_INVALID_ARGUMENT: { status: 422, title: 'An argument cannot be given to the script', example: 'arguments[0]: an argument cannot contain NUL.' },
  KW_ERR_INVALID_PACKAGE: {
    status: 422,
    title: 'A package cannot be fetched as given',
    example: 'packages[0]: a package needs name, url and sha256; sha256 is missing.',
  },
  KW_ERR_PACKAGE_SOURCE_NOT_ALLOWED: {
    status: 422,
    title: 'This worker does not allow that package source',
    example: 'packages[0]: https://example.com/app.tar.gz is not under any package source this worker allows. Allowed: https://feed.example.com/packages/.',
  },
  KW_ERR_SERVICE_ACCOUNT_NOT_ALLOWED: {
    status: 422,
    title: 'This worker does not allow that service account',
    example: "serviceAccountName: this worker does not let operations choose a service account; leave it out to use the worker's.",
  },
  KW_ERR_UNAVAILABLE: { status: 503, title: 'The worker cannot reach its queue', example: 'the queue (Redis) cannot be reached; retry shortly' },
  KW_ERR_NOT_REPLICATED: {
    status: 503,
    title: 'No replica confirmed the operation in time; it may or may not be kept',
    example:
      'no replica of the queue confirmed the operation within 1000 ms (KUBE_WORKER_REDIS_WAIT_MS); send the same ticket and body again: it is run once either way',
  },
  KW_ERR_TOO_MANY_FOLLOWS: {
    status: 503,
    title: 'This dispatcher streams as many logs as it may',
    example: 'this dispatcher already streams 1000 logs (KUBE_WORKER_MAX_FOLLOWS); retry shortly, or read the status with afterSequence instead',
  },
  KW_ERR_INTERNAL: { status: 500, title: 'Internal error', example: 'an unexpected error occurred; it has been logged' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

/** An error the API reports as `application/problem+json` (RFC 9457). */
export class KubeWorkerError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;

  constructor(code: ErrorCode, detail: string) {
    super(detail);
    this.name = 'KubeWorkerError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.title = ERRORS[code].title;
  }
}
