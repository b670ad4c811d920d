/** `kube-worker logs <ticket> [--follow]`: an operation's log so far, or followed to its end. */
import type { Config } from '../../core/config.js';
import type { OptionValues } from '../command.js';
import { EXIT, usageError } from '../exit-codes.js';
import { followToEnd, printLine } from '../follow.js';
import { connectClient } from './client.js';

const PAGE = 1000;

export async function logs(config: Config, ticket: string, options: OptionValues): Promise<number> {
  if (options['cancel-on-interrupt'] && !options.follow) throw usageError('--cancel-on-interrupt goes with --follow');
  const client = await connectClient(config);
  if (options.follow) {
    const { state } = await client.status(ticket, 0, 1);
    return followToEnd(client, ticket, state, options['cancel-on-interrupt'] === true);
  }
  for (let after = 0; ;) {
    const page = await client.status(ticket, after, PAGE);
    for (const line of page.logs) printLine(line);
    if (page.logs.length < PAGE) return EXIT.ok;
    after = page.nextSequence;
  }
}
