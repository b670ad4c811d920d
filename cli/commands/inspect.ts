/** `kube-worker status <ticket>` and `kube-worker cancel <ticket>`. */
import type { Config } from '../../core/config.js';
import { connectClient } from './client.js';

export async function status(config: Config, ticket: string): Promise<number> {
  const client = await connectClient(config);
  const { logs, ...rest } = await client.status(ticket, 0, 10_000);
  process.stdout.write(`${JSON.stringify({ ...rest, logLines: logs.length }, null, 2)}\n`);
  for (const line of logs) process.stdout.write(`${String(line.seq).padStart(5)} ${line.stream.padEnd(6)} ${line.text}\n`);
  return 0;
}

export async function cancel(config: Config, ticket: string): Promise<number> {
  const client = await connectClient(config);
  const accepted = await client.cancel(ticket);
  process.stdout.write(`${accepted.ticket} ${accepted.state === 'cancelled' ? 'cancelled' : `cancelling (was ${accepted.state})`}\n`);
  return 0;
}
