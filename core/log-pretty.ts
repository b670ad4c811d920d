/**
 * Readable log lines for a terminal, made from pino's JSON lines after redaction (so what is hidden
 * in JSON is hidden here too): time, level, message, then the other fields as key=value, nested
 * objects flattened (req.method=GET), and an error's stack on the lines below. Control characters
 * of the entry (an error may quote a script) are shown, not obeyed (terminal-text.ts).
 */
import { showControls } from './terminal-text.js';

const LEVELS: Record<number, { name: string; colour: string }> = {
  10: { name: 'TRACE', colour: '90' },
  20: { name: 'DEBUG', colour: '36' },
  30: { name: 'INFO', colour: '32' },
  40: { name: 'WARN', colour: '33' },
  50: { name: 'ERROR', colour: '31' },
  60: { name: 'FATAL', colour: '35;1' },
};

/** What every line carries and the readable form shows in its own way, or not at all. */
const SHOWN_APART = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'service', 'name', 'err']);

const paint = (colour: boolean, code: string, text: string): string => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);

function clock(time: unknown): string {
  const date = new Date(typeof time === 'number' ? time : Date.now());
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** A value as it reads after `key=`: bare when it has no spaces or quotes, JSON otherwise. */
function valueText(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

function fields(prefix: string, value: unknown, out: string[]): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && prefix.split('.').length < 3) {
    for (const [key, inner] of Object.entries(value)) fields(prefix ? `${prefix}.${key}` : key, inner, out);
  } else {
    out.push(showControls(`${prefix}=${valueText(value)}`));
  }
}

/** One JSON log line (pino's output) as one or more readable lines; a line that is not JSON passes through. */
export function prettyLine(json: string, colour: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return `${showControls(json.endsWith('\n') ? json.slice(0, -1) : json)}\n`;
  }
  const level = LEVELS[entry.level as number] ?? { name: String(entry.level), colour: '0' };
  const rest: string[] = [];
  for (const [key, value] of Object.entries(entry)) if (!SHOWN_APART.has(key)) fields(key, value, rest);
  const parts = [
    paint(colour, '2', clock(entry.time)),
    paint(colour, level.colour, level.name.padEnd(5)),
    typeof entry.msg === 'string' ? showControls(entry.msg) : '',
    ...rest.map((field) => {
      const at = field.indexOf('=');
      return `${paint(colour, '2', `${field.slice(0, at)}=`)}${field.slice(at + 1)}`;
    }),
  ];
  let text = parts.filter(Boolean).join(' ');
  const err = entry.err as { stack?: string; message?: string } | undefined;
  if (err)
    text += `\n${(err.stack ?? err.message ?? JSON.stringify(err))
      .split('\n')
      .map((line) => `    ${showControls(line)}`)
      .join('\n')}`;
  return `${text}\n`;
}
