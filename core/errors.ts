/**
 * The catalogue of API errors. Each has a stable `code` that clients can branch on and the HTTP
 * status it maps to; the `detail` of each instance says what to fix.
 */
export const ERRORS = {
  KW_ERR_VALIDATION: { status: 400, title: 'The request is malformed' },
  KW_ERR_UNAUTHORIZED: { status: 401, title: 'A valid bearer token is required' },
  KW_ERR_DASHBOARD_UNAUTHORIZED: { status: 401, title: 'The dashboard credentials are required' },
  KW_ERR_NOT_FOUND: { status: 404, title: 'No such operation' },
  KW_ERR_ROUTE_NOT_FOUND: { status: 404, title: 'No such route' },
  KW_ERR_TICKET_CONFLICT: { status: 409, title: 'The ticket exists with a different operation' },
  KW_ERR_NOT_FINISHED: { status: 409, title: 'The operation has not finished' },
  KW_ERR_REQUEST_TIMEOUT: { status: 408, title: 'The request was not received in time' },
  KW_ERR_TOO_LARGE: { status: 413, title: 'The operation is too large' },
  KW_ERR_URI_TOO_LONG: { status: 414, title: 'The request path is too long' },
  KW_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'The body must be application/json' },
  KW_ERR_HEADERS_TOO_LARGE: { status: 431, title: 'The request headers are too large' },
  KW_ERR_UNKNOWN_POOL: { status: 422, title: 'This worker does not serve that pool' },
  KW_ERR_DOCKER_UNSUPPORTED: { status: 422, title: 'This worker has no Docker' },
  KW_ERR_UNSUPPORTED_REQUIREMENT: { status: 422, title: 'This worker cannot meet a requirement' },
  KW_ERR_INVALID_QUANTITY: { status: 422, title: 'A resource quantity is invalid' },
  KW_ERR_RESOURCES_EXCEED_MAXIMUM: { status: 422, title: 'The resources asked for exceed what this worker allows' },
  KW_ERR_INVALID_IMAGE: { status: 422, title: 'The container image reference cannot be valid' },
  KW_ERR_INVALID_FILE: { status: 422, title: 'A file cannot be placed in the workspace' },
  KW_ERR_INVALID_VARIABLE: { status: 422, title: 'A variable cannot be given to the script' },
  KW_ERR_INVALID_ARGUMENT: { status: 422, title: 'An argument cannot be given to the script' },
  KW_ERR_INVALID_PACKAGE: { status: 422, title: 'A package cannot be fetched as given' },
  KW_ERR_PACKAGE_SOURCE_NOT_ALLOWED: { status: 422, title: 'This worker does not allow that package source' },
  KW_ERR_SERVICE_ACCOUNT_NOT_ALLOWED: { status: 422, title: 'This worker does not allow that service account' },
  KW_ERR_UNAVAILABLE: { status: 503, title: 'The worker cannot reach its queue' },
  KW_ERR_NOT_REPLICATED: { status: 503, title: 'No replica confirmed the operation in time; it may or may not be kept' },
  KW_ERR_TOO_MANY_FOLLOWS: { status: 503, title: 'This dispatcher streams as many logs as it may' },
  KW_ERR_INTERNAL: { status: 500, title: 'Internal error' },
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
