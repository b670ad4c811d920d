/**
 * The operators' queue dashboard (bull-board) at `/dashboard`, in a context of its own: its HTTP
 * basic auth covers the board's pages, assets and API and nothing else, and the API's bearer tokens
 * do not open it. Job data holds no secrets (see core/queue.ts), so the board shows nothing an
 * operation keeps private.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { digestAll, matchesAny } from '../../core/tokens.js';
import { sendProblem } from './problems.js';

export const DASHBOARD_PATH = '/dashboard';

export interface DashboardOptions {
  queues: readonly Queue[];
  user: string;
  password: string;
  /** Lets users clean, remove, pause and promote jobs; the board is read-only otherwise. */
  write: boolean;
}

/** The `user:password` pair a Basic Authorization header carries, or '' when it carries none. */
function basicCredentials(header: string | undefined): string {
  if (!header?.startsWith('Basic ')) return '';
  return Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
}

export default async function dashboard(app: FastifyInstance, options: DashboardOptions): Promise<void> {
  // The user cannot contain ":" (see core/config-observability.ts), so comparing the whole pair is
  // comparing user and password, in constant time.
  const accepted = digestAll([`${options.user}:${options.password}`]);
  app.addHook('onRequest', async (request, reply) => {
    const presented = basicCredentials(request.headers.authorization);
    if (presented === '' || !matchesAny(presented, accepted)) {
      reply.header('www-authenticate', 'Basic realm="kube-worker dashboard", charset="UTF-8"');
      return sendProblem(
        reply,
        request,
        'KW_ERR_DASHBOARD_UNAUTHORIZED',
        'sign in with the dashboard user and password (KUBE_WORKER_DASHBOARD_USER and KUBE_WORKER_DASHBOARD_PASSWORD)',
      );
    }
  });

  const board = new FastifyAdapter();
  board.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    // Retrying would do nothing: an operation runs once, and its executor skips a finished one.
    queues: options.queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: !options.write, allowRetries: false })),
    serverAdapter: board,
    options: { uiConfig: { boardTitle: 'kube-worker' } },
  });
  await app.register(board.registerPlugin(), { prefix: DASHBOARD_PATH });
}
