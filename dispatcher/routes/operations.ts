/** The operations API (v1): submit, status, logs, cancel, complete. Thin: each route calls a use case. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { OperationRequest, Ticket } from '../../core/contract/operation.js';
import { Accepted, OperationStatus } from '../../core/contract/status.js';
import { KubeWorkerError } from '../../core/errors.js';
import { followLogs, type FollowOptions } from '../follow-logs.js';
import { takesNoBody } from '../plugins/request-bodies.js';
import { cancelOperation, readStatus, releaseOperation, submitOperation, type OperationsDependencies } from '../operations.js';

const Params = Type.Object({ ticket: Ticket });
type Params = Static<typeof Params>;

/** Sequence numbers stay exact in a JavaScript number up to here; no log reaches it. */
const Sequence = (description: string) => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0, description });

const StatusQuery = Type.Object({
  afterSequence: Sequence('Return log lines after this sequence number.'),
  limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000, description: 'At most this many log lines.' }),
});
type StatusQuery = Static<typeof StatusQuery>;

const LogsQuery = Type.Object({
  afterSequence: Sequence('Stream log lines after this sequence number (a Last-Event-ID header wins).'),
  follow: Type.Boolean({ default: false, description: 'Keep the stream open until the operation ends.' }),
});
type LogsQuery = Static<typeof LogsQuery>;

/**
 * ajv coerces a query value such as "1e400" to Infinity, which then passes every numeric keyword
 * (integer, maximum); refuse it here rather than hand Infinity to Redis.
 */
async function finiteQuery(request: FastifyRequest): Promise<void> {
  for (const [name, value] of Object.entries(request.query as Record<string, unknown>)) {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new KubeWorkerError('KW_ERR_VALIDATION', `querystring.${name} must be a finite whole number`);
  }
}

const Problem = Type.Ref('Problem');
const problems = { 400: Problem, 401: Problem, 404: Problem, 409: Problem, 413: Problem, 422: Problem, 503: Problem };

export interface OperationRouteOptions {
  deps: OperationsDependencies;
  follow: FollowOptions;
}

export default async function operationRoutes(app: FastifyInstance, { deps, follow }: OperationRouteOptions): Promise<void> {
  app.post<{ Body: OperationRequest }>(
    '/api/v1/operations',
    {
      schema: {
        tags: ['operations'],
        summary: 'Submit an operation',
        description: '202 when new; 200 with the current state when the same ticket is sent again with the same body; 409 when the ticket exists with a different body.',
        body: Type.Ref('OperationRequest'),
        response: { 200: Accepted, 202: Accepted, ...problems, 415: Problem },
      },
    },
    async (request, reply) => {
      const { created, accepted } = await submitOperation(deps, request.body);
      request.log.info({ ticket: accepted.ticket, pool: request.body.pool, taskId: request.body.taskId, created }, created ? 'operation accepted' : 'operation resubmitted');
      return reply.code(created ? 202 : 200).send(accepted);
    },
  );

  app.get<{ Params: Params; Querystring: StatusQuery }>(
    '/api/v1/operations/:ticket',
    {
      schema: { tags: ['operations'], summary: 'Status, result and log lines of an operation', params: Params, querystring: StatusQuery, response: { 200: OperationStatus, ...problems } },
      preHandler: finiteQuery,
    },
    async (request) => readStatus(deps, request.params.ticket, request.query.afterSequence, request.query.limit),
  );

  app.get<{ Params: Params; Querystring: LogsQuery }>(
    '/api/v1/operations/:ticket/logs',
    {
      schema: {
        tags: ['operations'],
        summary: 'Log lines as Server-Sent Events',
        description:
          'Each line is an event `log` whose id is its sequence number (Last-Event-ID resumes); a final event `end` carries the state, exit code and failure. ' +
          'A follow with nothing new gets keep-alive comments and ends after KUBE_WORKER_FOLLOW_IDLE_SECONDS without `end` (reconnect to go on); 503 with Retry-After when the dispatcher already serves KUBE_WORKER_MAX_FOLLOWS.',
        params: Params,
        querystring: LogsQuery,
        produces: ['text/event-stream'],
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
          tags: ['operations'],
          summary: 'Cancel an operation',
          description:
            '202 when the cancel takes effect: a queued operation never starts (state cancelled); a running one is stopped (state is still pending or running until it ends). ' +
            '200 with the final state, unchanged, when the operation had already finished. Takes no body; one sent is ignored.',
          params: Params,
          response: { 200: Accepted, 202: Accepted, ...problems },
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
      { schema: { tags: ['operations'], summary: 'Complete: release the logs and result of a finished operation', params: Params, response: { 204: Type.Null(), ...problems } } },
      async (request, reply) => {
        await releaseOperation(deps, request.params.ticket);
        request.log.info({ ticket: request.params.ticket }, 'operation released');
        return reply.code(204).send();
      },
    );
  });
}
