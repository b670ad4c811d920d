/**
 * What a process of this machine has used so far, from /proc: CPU time (user + system) and its peak
 * resident memory (VmHWM). Read before and after some work, the difference is what the work cost.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/PID/stat's times; 100 on Linux for every architecture in use. */
const TICKS_PER_SECOND = 100;

export interface ProcessUsage {
  cpuMs: number;
  peakRssMb: number;
}

export function processUsage(pid: number): ProcessUsage {
  // The command may hold spaces and parentheses: fields are counted from the last ")".
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command.
  const ticks = Number(fields[11]) + Number(fields[12]);
  const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuMs: (ticks * 1000) / TICKS_PER_SECOND, peakRssMb: hwm ? Number(hwm[1]) / 1024 : Number.NaN };
}

/** CPU ms the processes used between two readings, added up. */
export const cpuMsBetween = (before: ProcessUsage[], after: ProcessUsage[]): number => after.reduce((sum, a, i) => sum + a.cpuMs - (before[i]?.cpuMs ?? 0), 0);
