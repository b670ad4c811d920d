/** What the benchmarks submit: a small, realistic operation, and the token they submit it with. */

export const TOKEN = 'bench-token-0123456789abcdef';

export const POOL = 'default';

/** No ticket: the dispatcher makes a fresh one per submission, so every request is a new operation. */
export const OPERATION = { pool: POOL, script: { syntax: 'bash', body: 'echo hello' }, variables: { A: { value: '1' } } } as const;

export const SUBMIT_PATH = '/api/v1/operations';
