/** The trivial operation both sides of the Kubernetes benchmark run: one line of output. */
import type { OperationRequest } from '../../core/contract/operation.js';
import { POOL } from './operation.js';

export const TRIVIAL_OPERATION: OperationRequest = { pool: POOL, script: { syntax: 'sh', body: 'echo hi' } };
