/** How the benchmarks print: the run's circumstances first, then aligned rows. */
import os from 'node:os';

export function printCircumstances(title: string, settings: Record<string, string | number>): void {
  console.log(`${title} — ${new Date().toISOString()}`);
  console.log(
    `node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'unknown cpu'}), load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    Object.entries(settings)
      .map(([name, value]) => `${name}=${value}`)
      .join(' '),
  );
  console.log('');
}

export function row(cells: Array<string | number>, widths: number[]): string {
  return cells
    .map((cell, i) => String(cell).padEnd(widths[i] ?? 12))
    .join(' ')
    .trimEnd();
}
