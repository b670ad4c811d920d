/**
 * How many commands a Redis ran, by name, from `INFO commandstats`: read before and after some work
 * on a Redis of the test's own, the difference is what that work cost. Commands that Lua scripts
 * call are counted too (under their own names), beside the EVALSHA that ran them.
 */
import { Redis } from 'ioredis';

export type CommandCounts = Map<string, number>;

export async function commandCounts(redisUrl: string): Promise<CommandCounts> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  try {
    const text = await redis.info('commandstats');
    const counts: CommandCounts = new Map();
    for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) counts.set(match[1]!, Number(match[2]));
    return counts;
  } finally {
    redis.disconnect();
  }
}

/** `after - before` by command, without the zeros and without the INFO calls that read them. */
export function commandsBetween(before: CommandCounts, after: CommandCounts): CommandCounts {
  const difference: CommandCounts = new Map();
  for (const [name, calls] of after) {
    const ran = calls - (before.get(name) ?? 0);
    if (ran > 0 && name !== 'info') difference.set(name, ran);
  }
  return difference;
}

export const totalCommands = (counts: CommandCounts): number => [...counts.values()].reduce((sum, n) => sum + n, 0);

/** { name: calls per unit }, largest first, rounded to two decimals. */
export function commandsPer(counts: CommandCounts, units: number): Record<string, number> {
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]).map(([name, calls]) => [name, Math.round((calls / units) * 100) / 100]));
}
