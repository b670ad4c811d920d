/**
 * What the test cluster's node changes on this machine, and how it is undone: the node's bridge
 * and address, the kernel settings pods need, the iptables rules of kube-proxy and of the pod
 * network, the mounts of pods and cgroups left by the kubelet. `cluster:down` leaves the machine
 * as it found it (the sysctls aside).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { network } from './node-config.js';

const tools = {
  containerd: 'containerd',
  runc: 'runc',
  'containerd-shim-runc-v2': 'containerd',
  '/usr/lib/cni/bridge': 'containernetworking-plugins',
  iptables: 'iptables',
  'iptables-restore': 'iptables',
  ip: 'iproute2',
} as const;

const sbinPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** PATH for the node's processes: the runtime, iptables and mount live in sbin. */
export function nodePath(): string {
  return `${process.env.PATH ?? ''}:${sbinPath}`;
}

function which(tool: string): boolean {
  if (tool.startsWith('/')) return existsSync(tool);
  return nodePath()
    .split(':')
    .some((d) => d && existsSync(join(d, tool)));
}

/** Why this machine cannot run the node, or [] when it can. */
export function hostProblems(): string[] {
  const problems: string[] = [];
  const missing = Object.entries(tools).filter(([t]) => !which(t));
  if (missing.length > 0) {
    const packages = [...new Set(missing.map(([, pkg]) => pkg))];
    problems.push(`missing ${missing.map(([t]) => t).join(', ')} (Debian packages: ${packages.join(' ')}; test/cluster/host-setup.sh installs them)`);
  }
  if (process.getuid?.() !== 0) problems.push('the kubelet and containerd need root (run as root)');
  if (!existsSync('/sys/fs/cgroup/memory') && !existsSync('/sys/fs/cgroup/cgroup.controllers')) problems.push('no memory cgroup at /sys/fs/cgroup');
  if (!existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables'))
    problems.push('no bridge netfilter (/proc/sys/net/bridge/bridge-nf-call-iptables): Services would not reach pods on the same bridge');
  return problems;
}

function sh(cmd: string[], opts: { check?: boolean; input?: string } = {}): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', input: opts.input, env: { ...process.env, PATH: nodePath() } });
  const out = { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? String(r.error ?? '') };
  if (opts.check && out.status !== 0) throw new Error(`cluster: ${cmd.join(' ')} failed: ${out.stderr.trim()}`);
  return out;
}

function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

/** The node's bridge with its address, and the kernel settings pods and Services need. */
export function setUpHostNetwork(): void {
  if (!linkExists(network.nodeBridge)) sh(['ip', 'link', 'add', network.nodeBridge, 'type', 'bridge'], { check: true });
  const addr = `${network.nodeIP}/${network.nodePrefix}`;
  if (!sh(['ip', '-o', 'addr', 'show', 'dev', network.nodeBridge]).stdout.includes(` ${addr} `)) {
    sh(['ip', 'addr', 'add', addr, 'dev', network.nodeBridge], { check: true });
  }
  sh(['ip', 'link', 'set', network.nodeBridge, 'up'], { check: true });
  // Pods reach Services (DNAT, then forwarded) and get their replies through the bridge's
  // netfilter hooks when both ends sit on the pod bridge.
  writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
  writeFileSync('/proc/sys/net/bridge/bridge-nf-call-iptables', '1');
  // Another firewall on this machine (Docker's) may drop forwarded packets by default.
  for (const dir of ['-i', '-o']) {
    const rule = ['FORWARD', dir, network.podBridge, '-m', 'comment', '--comment', ruleComment, '-j', 'ACCEPT'];
    if (sh(['iptables', '-w', '-C', ...rule]).status !== 0) sh(['iptables', '-w', '-I', ...rule], { check: true });
  }
}

const ruleComment = 'kube-worker test cluster';

/**
 * Removes the node's bridges and every iptables rule and chain of kube-proxy (KUBE-*), of the pod
 * network (CNI-*) and of the cluster (by comment), in both address families.
 */
export function tearDownHostNetwork(): string[] {
  const removed: string[] = [];
  for (const link of [network.podBridge, network.nodeBridge]) {
    if (linkExists(link) && sh(['ip', 'link', 'delete', link]).status === 0) removed.push(`bridge ${link}`);
  }
  for (const family of ['iptables', 'ip6tables']) {
    if (!which(`${family}-save`)) continue;
    const script = iptablesCleanup(sh([`${family}-save`]).stdout);
    if (script.count === 0) continue;
    const r = sh([`${family}-restore`, '-w', '--noflush'], { input: script.text });
    if (r.status !== 0) throw new Error(`cluster: removing ${family} rules failed: ${r.stderr.trim()}\n${script.text}`);
    removed.push(`${script.count} ${family} rules and chains`);
  }
  return removed;
}

/**
 * From an iptables-save dump, the iptables-restore --noflush input that deletes the cluster's
 * rules and chains and nothing else. Pure, so it is tested on its own.
 */
export function iptablesCleanup(dump: string): { text: string; count: number } {
  const ours = (chain: string) => /^(KUBE-|CNI-)/.test(chain);
  const out: string[] = [];
  let count = 0;
  let table = '';
  let deletes: string[] = [];
  let chains: string[] = [];
  const flush = () => {
    if (table && (deletes.length > 0 || chains.length > 0)) {
      out.push(`*${table}`, ...deletes, ...chains.map((c) => `-F ${c}`), ...chains.map((c) => `-X ${c}`), 'COMMIT');
      count += deletes.length + chains.length;
    }
    deletes = [];
    chains = [];
  };
  for (const line of dump.split('\n')) {
    if (line.startsWith('*')) {
      flush();
      table = line.slice(1).trim();
    } else if (line.startsWith(':')) {
      const chain = line.slice(1).split(' ')[0]!;
      if (ours(chain)) chains.push(chain);
    } else if (line.startsWith('-A ')) {
      const chain = line.split(' ')[1]!;
      if (ours(chain)) continue; // goes with its chain
      const target = /(?:^| )-[jg] (\S+)/.exec(line)?.[1] ?? '';
      if (ours(target) || line.includes(`--comment "${ruleComment}"`)) deletes.push(`-D ${line.slice(3)}`);
    }
  }
  flush();
  return { text: out.length > 0 ? `${out.join('\n')}\n` : '', count };
}

/** Mount points at or below dir, deepest first. */
export function mountsUnder(dir: string, mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const points = mountinfo
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m)
    .map((m) => m.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => m === dir || m.startsWith(prefix));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** Unmounts everything at or below dirs (pod volumes, container root filesystems, netns). */
export function unmountUnder(dirs: string[]): string[] {
  const done: string[] = [];
  for (const dir of dirs) {
    for (const m of mountsUnder(dir)) {
      // Lazily when busy: the processes using it are gone or going.
      if (sh(['umount', m]).status === 0 || sh(['umount', '-l', m]).status === 0) done.push(m);
    }
  }
  return done;
}

/** Network namespaces the node's runtime left in /run/netns (containerd names them cni-*). */
export function unmountPodNetns(): string[] {
  const dir = '/run/netns';
  const done: string[] = [];
  for (const e of existsSync(dir) ? readdirSync(dir) : []) {
    if (!e.startsWith('cni-')) continue;
    const p = join(dir, e);
    sh(['umount', p]);
    try {
      unlinkSync(p);
      done.push(p);
    } catch {
      /* in use elsewhere */
    }
  }
  return done;
}

/** The kubelet's cgroups (kubepods): at the root (cgroup v2) or under each controller (v1). */
function podCgroupRoots(): string[] {
  const root = '/sys/fs/cgroup';
  if (!existsSync(root)) return [];
  return [join(root, 'kubepods'), ...readdirSync(root).map((c) => join(root, c, 'kubepods'))].filter((d) => existsSync(d));
}

/**
 * Kills every process left in the kubelet's cgroups: a container outlives its shim when the shim is
 * killed, so this is the last word on pods once the runtime is gone.
 */
export function killPodProcesses(): number {
  const pids = new Set<number>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(join(dir, e.name));
    try {
      for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (pid) pids.add(Number(pid));
    } catch {
      /* no such file in this hierarchy */
    }
  };
  for (const d of podCgroupRoots()) walk(d);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  return pids.size;
}

/** Removes the kubelet's cgroups, empty once its pods are gone. */
export function removePodCgroups(): number {
  let n = 0;
  const remove = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) remove(join(dir, e.name));
    try {
      rmdirSync(dir);
      n++;
    } catch {
      /* still in use */
    }
  };
  for (const d of podCgroupRoots()) remove(d);
  return n;
}

/** The kubelet's links in /var/log/containers that point into the node's pod logs. */
export function removeContainerLogLinks(podLogs: string): number {
  const dir = '/var/log/containers';
  let n = 0;
  for (const e of existsSync(dir) ? readdirSync(dir) : []) {
    try {
      if (readlinkSync(join(dir, e)).startsWith(podLogs)) {
        unlinkSync(join(dir, e));
        n++;
      }
    } catch {
      /* not a link */
    }
  }
  return n;
}
