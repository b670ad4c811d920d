/**
 * One intake target in a process of its own, started by bench/intake.ts: the servers never share
 * an event loop with the load generator, and each round starts from a fresh process.
 *
 * IPC: the child sends {ready, url}; for the bare target the parent sends {run} and gets {figures};
 * {cpu} answers the CPU time the process has used; {stop} closes everything and ends the process.
 */
import { startBareAdds, type BareAdds } from './bare-add.js';
import { startKubeWorkerIntake, type IntakeServer } from './kube-worker-intake.js';
import { startMinimalIntake } from './minimal-intake.js';

export type Variant = 'kube-worker' | 'minimal-fastify' | 'bare-queue-add';

export interface TargetSpec {
  variant: Variant;
  redisUrl: string;
  prefix: string;
  logFile: string;
}

export type ToTarget = { kind: 'run'; concurrency: number; seconds: number } | { kind: 'cpu' } | { kind: 'stop' };

async function main(): Promise<void> {
  const spec = JSON.parse(process.env.BENCH_TARGET ?? '') as TargetSpec;
  let server: IntakeServer | undefined;
  let bare: BareAdds | undefined;
  if (spec.variant === 'kube-worker') server = await startKubeWorkerIntake(spec.redisUrl, spec.prefix, spec.logFile);
  else if (spec.variant === 'minimal-fastify') server = await startMinimalIntake(spec.redisUrl, spec.prefix);
  else bare = startBareAdds(spec.redisUrl, spec.prefix);

  process.on('message', (message: ToTarget) => {
    if (message.kind === 'run' && bare) {
      void bare.run(message.concurrency, message.seconds).then((figures) => process.send?.({ kind: 'figures', figures }));
    } else if (message.kind === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send?.({ kind: 'cpu', micros: user + system });
    } else if (message.kind === 'stop') {
      void (server ?? bare)!.close().finally(() => process.disconnect());
    }
  });
  process.send?.({ kind: 'ready', url: server?.url });
}

// The parent going away (Ctrl-C, a crash) must not leave a server behind.
process.on('disconnect', () => setTimeout(() => process.exit(0), 2000).unref());

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
