/** `kube-worker queues`: how deep each pool's queue is, as a table. */
import { QUEUE_STATES } from '../../core/contract/queue-states.js';
import type { QueueDepths } from '../../client/index.js';
import type { Config } from '../../core/config.js';
import { connectClient } from './client.js';

/** Pool names left-aligned, counts right-aligned, columns as wide as their widest cell. */
export function depthTable(pools: QueueDepths['pools']): string {
  const rows = [['POOL', ...QUEUE_STATES.map((s) => s.toUpperCase())], ...pools.map((p) => [p.pool, ...QUEUE_STATES.map((s) => String(p[s]))])];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return (
    rows.map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ')).join('\n') + '\n'
  );
}

export async function queues(config: Config): Promise<number> {
  const client = await connectClient(config);
  const { pools } = await client.queues();
  process.stdout.write(depthTable(pools));
  return 0;
}
