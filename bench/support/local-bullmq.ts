/**
 * The floor for running scripts from a BullMQ queue: a Worker whose processor spawns
 * `bash -c 'echo hi'`, keeps its output and waits for it to exit. No record, log store, lock,
 * workspace or timeout — what kube-worker costs above this is what those cost.
 */
import { spawn } from 'node:child_process';
import { Queue, Worker } from 'bullmq';
import { JOB_NAME, queueName } from '../../core/queue.js';
import { connectRedis } from '../../core/redis.js';
import type { LocalTarget } from './local-kube-worker.js';
import { POOL } from './operation.js';

function echoHi(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', 'echo hi'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`bash exited with ${code}: ${output}`))));
  });
}

export function startBullmqSpawn(redisUrl: string, prefix: string, concurrency: number): LocalTarget {
  const redis = connectRedis(redisUrl, 'bench-bullmq-spawn');
  const queue = new Queue(queueName(POOL), { connection: redis, prefix });
  const worker = new Worker(queueName(POOL), echoHi, { connection: redis, prefix, concurrency });
  return {
    async submit() {
      await queue.add(JOB_NAME, { script: 'echo hi' });
    },
    async close() {
      await worker.close();
      await queue.close();
      await redis.quit();
    },
  };
}
