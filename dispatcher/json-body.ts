/**
 * How a JSON request body is read (pure; the request-bodies plugin calls it): UTF-8 only, checked
 * rather than repaired, and parsed strictly — an object may hold a key once, and never
 * `__proto__`. A client that sends any of these means something the last-key-wins result of
 * JSON.parse would silently not be.
 */
import { KubeWorkerError } from '../core/errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The charset parameter of a Content-Type, lower-cased; undefined when there is none. */
export function charsetOf(contentType: string): string | undefined {
  for (const parameter of contentType.split(';').slice(1)) {
    const [name, ...value] = parameter.split('=');
    if (name!.trim().toLowerCase() === 'charset')
      return value
        .join('=')
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .toLowerCase();
  }
  return undefined;
}

interface Container {
  kind: 'object' | 'array';
  /** How the container is reached from its parent, as in `.variables` or `[2]`. */
  step: string;
  keys: Set<string>;
  index: number;
}

const clip = (text: string): string => (text.length > 100 ? `${text.slice(0, 100)}…` : text);

/** The end of the string that starts at `start` (a quote), honouring escapes. */
function stringEnd(text: string, start: number): number {
  let at = start + 1;
  for (;;) {
    const quote = text.indexOf('"', at);
    let backslashes = 0;
    while (text[quote - 1 - backslashes] === '\\') backslashes += 1;
    if (backslashes % 2 === 0) return quote;
    at = quote + 1;
  }
}

/**
 * What is wrong with the keys of valid JSON `text` — a key given twice in one object, or
 * `__proto__` — with where it is; undefined when nothing is. Walks without recursion.
 */
export function keyProblem(text: string): string | undefined {
  const open: Container[] = [];
  let expectKey = false;
  let lastKey = '';
  const where = (): string =>
    `body${open
      .slice(1)
      .map((c) => c.step)
      .join('')}`;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '"') {
      const end = stringEnd(text, i);
      const top = open.at(-1);
      if (top?.kind === 'object' && expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (key === '__proto__') return `${where()}: "__proto__" cannot be a key (in JavaScript it names an object's prototype); rename it`;
        if (top.keys.has(key)) return `${where()}: the key "${clip(key)}" is given twice; give each key once`;
        top.keys.add(key);
        lastKey = key;
        expectKey = false;
      }
      i = end;
    } else if (c === '{' || c === '[') {
      const top = open.at(-1);
      const step = top === undefined ? '' : top.kind === 'object' ? `.${clip(lastKey)}` : `[${top.index}]`;
      open.push({ kind: c === '{' ? 'object' : 'array', step, keys: new Set(), index: 0 });
      expectKey = c === '{';
    } else if (c === '}' || c === ']') {
      open.pop();
    } else if (c === ',') {
      const top = open.at(-1)!;
      if (top.kind === 'array') top.index += 1;
      else expectKey = true;
    }
  }
  return undefined;
}

/** The value of a JSON body sent as `contentType`; throws a KubeWorkerError saying what to fix. */
export function readJsonBody(bytes: Buffer, contentType: string): unknown {
  const charset = charsetOf(contentType);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new KubeWorkerError(
      'KW_ERR_UNSUPPORTED_MEDIA_TYPE',
      `the body must be UTF-8 JSON; charset=${charset.slice(0, 40)} is not accepted (send Content-Type: application/json)`,
    );
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new KubeWorkerError('KW_ERR_VALIDATION', 'the body is not valid UTF-8; JSON must be sent as UTF-8');
  }
  if (text.trim() === '') throw new KubeWorkerError('KW_ERR_VALIDATION', 'the body is empty; send the operation as JSON');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new KubeWorkerError('KW_ERR_VALIDATION', `the body is not valid JSON: ${(error as Error).message}`);
  }
  const problem = keyProblem(text);
  if (problem) throw new KubeWorkerError('KW_ERR_VALIDATION', problem);
  return value;
}
