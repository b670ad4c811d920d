/**
 * npm run cluster:build | cluster:up | cluster:down | cluster:status
 * npm run -s cluster:kubeconfig        prints the admin kubeconfig's path
 * npm run -s cluster:bin -- NAME       prints a built tool's path (helm, kube-apiserver, kubectl, ...)
 * npm run -s cluster:image -- NAME     prints a test image's pullable reference (test/images)
 * npm run cluster:up -- --simulated-nodes N   (or KW_CLUSTER_SIMULATED_NODES=N) adds N kwok nodes
 * npm run cluster:remove-simulated     deletes the simulated nodes and stops kwok; the cluster stays up
 * npm run cluster:up -- --keda         (or KW_CLUSTER_KEDA=1) installs KEDA in the namespace keda
 */
import { imageNames, imageRef, isImageName } from '../images/images.js';
import { SetupError } from '../images/engine.js';
import { binPath, build, down, GoMissingError, kubeconfigPath, removeSimulated, status, up } from './cluster.js';

/** `--simulated-nodes N`, else KW_CLUSTER_SIMULATED_NODES, else 0. */
function simulatedNodes(args: string[]): number {
  const i = args.indexOf('--simulated-nodes');
  const text = i >= 0 ? args[i + 1] : process.env.KW_CLUSTER_SIMULATED_NODES;
  if (text === undefined || text === '') return 0;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 1000) throw new Error(`simulated nodes: "${text}" is not a whole number from 0 to 1000`);
  return n;
}

/** `--keda`, else KW_CLUSTER_KEDA=1. */
function keda(args: string[]): boolean {
  return args.includes('--keda') || process.env.KW_CLUSTER_KEDA === '1';
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'build': {
      const t0 = Date.now();
      const paths = build();
      for (const [k, v] of Object.entries(paths)) process.stdout.write(`${k.padEnd(24)} ${v}\n`);
      process.stderr.write(`[cluster] build checked in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
      return 0;
    }
    case 'bin': {
      const name = rest[0];
      if (!name) {
        process.stderr.write(
          'usage: npm run -s cluster:bin -- NAME   (helm, kube-apiserver, kube-controller-manager, kube-scheduler, etcd, kubectl, kubelet, kube-proxy)\n',
        );
        return 2;
      }
      process.stdout.write(`${binPath(name)}\n`);
      return 0;
    }
    case 'image': {
      const name = rest[0] ?? '';
      if (!isImageName(name)) {
        process.stderr.write(`usage: npm run -s cluster:image -- NAME   (${imageNames.join(', ')})\n`);
        return 2;
      }
      process.stdout.write(`${await imageRef(name)}\n`);
      return 0;
    }
    case 'up': {
      const info = await up({ simulatedNodes: simulatedNodes(rest), keda: keda(rest) });
      process.stdout.write(
        info.startedNow
          ? `cluster up in ${info.startSeconds?.toFixed(1)} s (Kubernetes ${info.version})\nexport KUBECONFIG=${info.kubeconfig}\n`
          : `cluster already running (Kubernetes ${info.version})\nexport KUBECONFIG=${info.kubeconfig}\n`,
      );
      return 0;
    }
    case 'down':
      await down();
      return 0;
    case 'remove-simulated':
      await removeSimulated();
      return 0;
    case 'status': {
      const s = await status();
      process.stdout.write(s.lines.join('\n') + '\n');
      return s.up ? 0 : 3;
    }
    case 'kubeconfig':
      process.stdout.write(`${kubeconfigPath}\n`);
      return 0;
    default:
      process.stderr.write('usage: cli.ts build|up [--simulated-nodes N] [--keda]|down|remove-simulated|status|kubeconfig|bin NAME|image NAME\n');
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof SetupError) process.stderr.write(`[images] ${err.message}\n`);
    else if (err instanceof GoMissingError) process.stderr.write(`[cluster] ${err.message}\n`);
    else process.stderr.write(`[cluster] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
