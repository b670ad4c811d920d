/** The operations API (v1): submit, status, logs, cancel, complete. Thin: each route calls a use case. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { OperationRequest, Ticket } from '../../core/contract/operation.js';
import { KubeWorkerError } from '../../core/errors.js';
import { followLogs, type FollowOptions } from '../follow-logs.js';
import { takesNoBody } from '../plugins/request-bodies.js';
import { cancelOperation, readStatus, releaseOperation, submitOperation, type OperationsDependencies } from '../operations.js';
import { accepted, LOG_STREAM_EXAMPLES, OPERATION_PATH, STATUS_EXAMPLES } from './examples.js';
import { ANY_ROUTE, answer, problemAnswers, TICKET_ROUTE } from './responses.js';

const Params = Type.Object({ ticket: Ticket });
type Params = Static<typeof Params>;

/** Sequence numbers stay exact in a JavaScript number up to here; no log reaches it. */
const Sequence = (description: string) => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0, description });

// Optional to send; ajv fills in each default, so a handler sees every field (Required).
const StatusQuery = Type.Object({
  afterSequence: Type.Optional(Sequence('Return log lines after this sequence number.')),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 1000, description: 'At most this many log lines.' })),
});
type StatusQuery = Required<Static<typeof StatusQuery>>;

const LogsQuery = Type.Object({
  afterSequence: Type.Optional(Sequence('Stream log lines after this sequence number (a Last-Event-ID header wins).')),
  follow: Type.Optional(Type.Boolean({ default: false, description: 'Keep the stream open until the operation ends.' })),
});
type LogsQuery = Required<Static<typeof LogsQuery>>;

/**
 * ajv coerces a query value such as "1e400" to Infinity, which then passes every numeric keyword
 * (integer, maximum); refuse it here rather than hand Infinity to Redis.
 */
async function finiteQuery(request: FastifyRequest): Promise<void> {
  for (const [name, value] of Object.entries(request.query as Record<string, unknown>)) {
    if (typeof value === 'number' && !Number.isFinite(value))
      throw new KubeWorkerError('KW_ERR_VALIDATION', `querystring.${name} must be a finite whole number`);
  }
}

const Accepted = Type.Ref('Accepted');

export interface OperationRouteOptions {
  deps: OperationsDependencies;
  follow: FollowOptions;
}

export default async function operationRoutes(app: FastifyInstance, { deps, follow }: OperationRouteOptions): Promise<void> {
  app.post<{ Body: OperationRequest }>(
    '/api/v1/operations',
    {
      schema: {
        operationId: 'submitOperation',
        tags: ['operations'],
        summary: 'Submit an operation',
        description:
          '202 when new; 200 with the current state when the same ticket is sent again with the same body (a retry); 409 when the ticket exists with a different body. ' +
          'Everything is checked before anything is queued: 413 over 1 MiB (script, files, variables), 422 for what this worker cannot run.',
        body: Type.Ref('OperationRequest'),
        response: {
          200: answer('The same operation was submitted before: its current state.', Accepted, accepted('Sent again while it runs', 'running')),
          202: answer('Accepted and queued.', Accepted, accepted('Queued', 'queued')),
          ...problemAnswers('/api/v1/operations', [
            ...ANY_ROUTE,
            'KW_ERR_REQUEST_TIMEOUT',
            'KW_ERR_TICKET_CONFLICT',
            'KW_ERR_TOO_LARGE',
            'KW_ERR_UNSUPPORTED_MEDIA_TYPE',
            'KW_ERR_UNKNOWN_POOL',
            'KW_ERR_DOCKER_UNSUPPORTED',
            'KW_ERR_UNSUPPORTED_REQUIREMENT',
            'KW_ERR_INVALID_QUANTITY',
            'KW_ERR_RESOURCES_EXCEED_MAXIMUM',
            'KW_ERR_INVALID_IMAGE',
            'KW_ERR_INVALID_FILE',
            'KW_ERR_INVALID_VARIABLE',
            'KW_ERR_INVALID_ARGUMENT',
            'KW_ERR_INVALID_PACKAGE',
            'KW_ERR_PACKAGE_SOURCE_NOT_ALLOWED',
            'KW_ERR_SERVICE_ACCOUNT_NOT_ALLOWED',
          ]),
        },
      },
    },
    async (request, reply) => {
      // When the request arrived, before its body was read and checked: the timeline's `accepted`.
      const receivedAt = Math.floor(Date.now() - reply.elapsedTime);
      // The operation's trace begins here, or joins the client's when it sends a traceparent.
      const attributes = { 'http.request.method': 'POST', 'http.route': '/api/v1/operations', 'kube_worker.pool': request.body.pool };
      const options = { kind: 'server', parent: request.headers.traceparent as string | undefined, startTime: receivedAt, attributes } as const;
      const { created, accepted } = await deps.tracing.inSpan('POST /api/v1/operations', options, async (span) => {
        try {
          const submitted = await submitOperation(deps, request.body, receivedAt, span.traceparent);
          span.setAttributes({ 'kube_worker.ticket': submitted.accepted.ticket, 'http.response.status_code': submitted.created ? 202 : 200 });
          return submitted;
        } catch (error) {
          if (error instanceof KubeWorkerError) span.setAttributes({ 'http.response.status_code': error.status });
          throw error;
        }
      });
      request.log.info(
        { ticket: accepted.ticket, pool: request.body.pool, taskId: request.body.taskId, created },
        created ? 'operation accepted' : 'operation resubmitted',
      );
      return reply.code(created ? 202 : 200).send(accepted);
    },
  );

  app.get<{ Params: Params; Querystring: StatusQuery }>(
    '/api/v1/operations/:ticket',
    {
      schema: {
        operationId: 'getOperation',
        tags: ['operations'],
        summary: 'Status, result and log lines of an operation',
        description:
          'The state, exit code, failure, output variables and timings, with up to `limit` log lines after `afterSequence`. Pass the returned `nextSequence` as `afterSequence` to read on.',
        params: Params,
        querystring: StatusQuery,
        response: {
          200: answer('The operation and the log lines asked for.', Type.Ref('OperationStatus'), STATUS_EXAMPLES),
          ...problemAnswers(OPERATION_PATH, TICKET_ROUTE),
        },
      },
      preHandler: finiteQuery,
    },
    async (request) => readStatus(deps, request.params.ticket, request.query.afterSequence, request.query.limit),
  );

  app.get<{ Params: Params; Querystring: LogsQuery }>(
    '/api/v1/operations/:ticket/logs',
    {
      schema: {
        operationId: 'streamOperationLogs',
        tags: ['operations'],
        summary: 'Log lines as Server-Sent Events',
        description:
          'Each line is an event `log` whose id is its sequence number (Last-Event-ID resumes); a final event `end` carries the state, exit code and failure. ' +
          'A follow with nothing new gets keep-alive comments and ends after KUBE_WORKER_FOLLOW_IDLE_SECONDS without `end` (reconnect to go on); 503 with Retry-After when the dispatcher already serves KUBE_WORKER_MAX_FOLLOWS.',
        params: Params,
        querystring: LogsQuery,
        response: {
          // The stream is written by hand (follow-logs.ts), never serialized with this schema.
          200: {
            description:
              'The stream: `log` events (data: a log line as in the status, id: its sequence), then one `end` event (data: ticket, state, exitCode, failure, nextSequence).',
            content: { 'text/event-stream': { schema: Type.String(), examples: LOG_STREAM_EXAMPLES } },
          },
          ...problemAnswers(`${OPERATION_PATH}/logs`, [...TICKET_ROUTE, 'KW_ERR_TOO_MANY_FOLLOWS']),
        },
      },
      preHandler: finiteQuery,
    },
    async (request, reply) => followLogs(deps, follow, request, reply),
  );

  // Cancel and complete take no body: one sent (an empty JSON one included) is never read.
  await app.register(async (noBody) => {
    takesNoBody(noBody);
    noBody.post<{ Params: Params }>(
      '/api/v1/operations/:ticket/cancel',
      {
        schema: {
          operationId: 'cancelOperation',
          tags: ['operations'],
          summary: 'Cancel an operation',
          description:
            '202 when the cancel takes effect: a queued operation never starts (state cancelled); a running one is stopped (state is still pending or running until it ends). ' +
            '200 with the final state, unchanged, when the operation had already finished. Takes no body; one sent is ignored.',
          params: Params,
          response: {
            200: answer('It had already finished: its final state, unchanged.', Accepted, accepted('Already finished', 'succeeded')),
            202: answer('The cancel takes effect.', Accepted, {
              ...accepted('A queued operation: it never starts', 'cancelled'),
              ...accepted('A running operation: stopping', 'running'),
            }),
            ...problemAnswers(`${OPERATION_PATH}/cancel`, TICKET_ROUTE),
          },
        },
      },
      async (request, reply) => {
        const { ended, accepted } = await cancelOperation(deps, request.params.ticket);
        request.log.info({ ticket: accepted.ticket, state: accepted.state, ended }, ended ? 'cancel of a finished operation' : 'cancel requested');
        return reply.code(ended ? 200 : 202).send(accepted);
      },
    );

    noBody.delete<{ Params: Params }>(
      '/api/v1/operations/:ticket',
      {
        schema: {
          operationId: 'completeOperation',
          tags: ['operations'],
          summary: 'Complete: release the logs and result of a finished operation',
          description:
            'The server has read everything: logs and result are released, and the ticket is 404 from then on. 409 while the operation still runs. Takes no body; one sent is ignored.',
          params: Params,
          response: { 204: Type.Null({ description: 'Released.' }), ...problemAnswers(OPERATION_PATH, [...TICKET_ROUTE, 'KW_ERR_NOT_FINISHED']) },
        },
      },
      async (request, reply) => {
        await releaseOperation(deps, request.params.ticket);
        request.log.info({ ticket: request.params.ticket }, 'operation released');
        return reply.code(204).send();
      },
    );
  });
}
