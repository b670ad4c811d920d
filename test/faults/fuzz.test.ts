import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Random } from './support/fuzz/random.js';
import { RequestFactory, type FuzzRequest, type OpenApiDocument } from './support/fuzz/requests.js';
import { send, type Sent } from './support/fuzz/send.js';
import { startStack, TOKEN, type Stack } from '../integration/support/stack.js';

const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 5000);
/** FUZZ_SEED replays a run: the same seed sends the same requests in the same order. */
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 32);
const CLIENTS = 8;
const TIMEOUT_MS = 10_000;
const POOLS = ['default', 'other'];

interface Failure {
  index: number;
  request: FuzzRequest;
  sent: Sent;
}

const shorten = (text: string, max = 300): string => (text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text);
const route = (request: FuzzRequest): string =>
  `${request.method} ${request.path.split('?')[0]!.replace(/^\/api\/v1\/operations\/[^/]+/, '/api/v1/operations/{ticket}')}`;
function describeFailure({ index, request, sent }: Failure): string {
  const answer = sent.kind === 'answer' ? `${sent.status} ${shorten(sent.body)}` : sent.kind;
  return `#${index} ${request.method} ${shorten(request.path, 200)} [${request.how.join(', ')}] headers ${JSON.stringify(request.headers).slice(0, 200)} body ${shorten(request.body ?? '', 400)} → ${answer}`;
}

describe(`requests generated from the OpenAPI document (FUZZ_SEED=${SEED})`, () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { KUBE_WORKER_POOLS: POOLS.join(',') } });
  });
  afterAll(() => stack.close());

  it(
    `${REQUESTS} requests, valid and mutated: never a 5xx, never a hang, and every pool still runs an operation afterwards`,
    { timeout: 900_000 },
    async () => {
      console.info(`[fuzz] seed ${SEED} (replay with FUZZ_SEED=${SEED})`);
      const doc = (await stack.api('GET', '/docs/json', undefined, null)).body as OpenApiDocument;
      const factory = new RequestFactory(doc, POOLS, TOKEN);
      const random = new Random(SEED);
      // Generated in order from the one seed, so a replay sends the same requests whatever the timing.
      const requests = Array.from({ length: REQUESTS }, () => factory.next(random));

      const sendingSince = Date.now();
      const failures: Failure[] = [];
      const tally = new Map<string, number>();
      let next = 0;
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          for (let index = next++; index < requests.length; index = next++) {
            const request = requests[index]!;
            const sent = await send(stack.url, request, TIMEOUT_MS);
            const outcome = sent.kind === 'answer' ? String(sent.status) : sent.kind;
            tally.set(`${route(request)} ${outcome}`, (tally.get(`${route(request)} ${outcome}`) ?? 0) + 1);
            if (sent.kind === 'timeout' || (sent.kind === 'answer' && sent.status >= 500)) failures.push({ index, request, sent });
          }
        }),
      );
      const sendingSeconds = (Date.now() - sendingSince) / 1000;
      failures.sort((a, b) => a.index - b.index);
      // One line per kind of failure (route and answer), with the first request that caused it.
      const kinds = new Map<string, Failure>();
      for (const failure of failures) {
        const answer =
          failure.sent.kind === 'answer' ? `${failure.sent.status} ${failure.sent.body.replace(/"instance":"[^"]*"/, '').slice(0, 160)}` : failure.sent.kind;
        const kind = `${route(failure.request)} → ${answer}`;
        if (!kinds.has(kind)) kinds.set(kind, failure);
      }
      console.info(
        `[fuzz] seed ${SEED}: ${requests.length} requests, ${failures.length} failures (5xx or no answer in ${TIMEOUT_MS / 1000}s), sent in ${sendingSeconds}s\n` +
          `  answers ${JSON.stringify(Object.fromEntries([...tally].sort()))}\n` +
          [...kinds.values()].map((f) => `  first of its kind: ${describeFailure(f)}`).join('\n'),
      );

      const afterwards = await Promise.all(
        POOLS.map(async (pool) => {
          const submitted = await stack.api('POST', '/api/v1/operations', { pool, script: { syntax: 'bash', body: 'echo still-works' } });
          if (submitted.status !== 202) return `${pool}: submit answered ${submitted.status} ${JSON.stringify(submitted.body).slice(0, 200)}`;
          const status = await stack.waitUntilDone(submitted.body.ticket, 120_000).catch((error: Error) => ({ state: error.message, logs: [] }));
          return status.state === 'succeeded' && status.logs.some((l) => l.text === 'still-works') ? `${pool}: succeeded` : `${pool}: ${status.state}`;
        }),
      );
      expect({ failures: [...kinds.values()].map(describeFailure), afterwards }).toEqual({ failures: [], afterwards: POOLS.map((p) => `${p}: succeeded`) });
    },
  );
});
