/** Parsers shared by the setting tables: each turns one raw variable into a typed value or a ConfigError naming it. */

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function integer(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^-?[0-9]+$/.test(raw.trim())) throw new ConfigError(`${name} must be a whole number, not "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, not ${value}`);
  return value;
}

/** One of a fixed set of words. */
export function oneOf<T extends string>(name: string, raw: string | undefined, choices: readonly T[], fallback: T): T {
  const value = raw === undefined || raw.trim() === '' ? fallback : raw.trim();
  if (!(choices as readonly string[]).includes(value)) {
    throw new ConfigError(`${name} must be ${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}, not "${value}"`);
  }
  return value as T;
}

export function list(raw: string | undefined): string[] {
  return (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

export function boolean(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  if (/^(true|1|yes)$/i.test(raw)) return true;
  if (/^(false|0|no)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, not "${raw}"`);
}

/** A JSON value of the expected kind ("object" or "array"), or undefined when unset. */
export function json<T>(name: string, raw: string | undefined, kind: 'object' | 'array'): T | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new ConfigError(`${name} must be JSON: ${(error as Error).message}`);
  }
  const isArray = Array.isArray(value);
  if ((kind === 'array') !== isArray || value === null || typeof value !== 'object') {
    throw new ConfigError(`${name} must be a JSON ${kind}`);
  }
  return value as T;
}

/** A JSON object whose values are all strings (labels, annotations, node selectors). */
export function stringMap(name: string, raw: string | undefined): Record<string, string> {
  const value = json<Record<string, unknown>>(name, raw, 'object') ?? {};
  const bad = Object.entries(value).find(([, v]) => typeof v !== 'string');
  if (bad) throw new ConfigError(`${name}: the value of "${bad[0]}" must be a string`);
  return value as Record<string, string>;
}

/** One setting: the environment variable that sets key `K` of the configuration part `C`. */
export interface SettingOf<C, K extends keyof C> {
  env: string;
  key: K;
  description: string;
  /** The default as text, for the README; undefined when there is none. */
  defaultText?: string;
  parse: (raw: string | undefined) => C[K];
}
