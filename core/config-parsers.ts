/** Parsers shared by the setting tables: each turns one raw variable into a typed value or a ConfigError naming it. */

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** A whole number from `min` to `max`. */
export const integer =
  (min: number, max: number) =>
  (raw: string | undefined, env: string): number => {
    const text = required(raw, env).trim();
    if (!/^-?[0-9]+$/.test(text)) throw new ConfigError(`${env} must be a whole number, not "${raw}"`);
    const value = Number(text);
    if (value < min || value > max) throw new ConfigError(`${env} must be between ${min} and ${max}, not ${value}`);
    return value;
  };

/** One of a fixed set of words. */
export const oneOf =
  <T extends string>(choices: readonly T[]) =>
  (raw: string | undefined, env: string): T => {
    const value = required(raw, env).trim();
    if (!(choices as readonly string[]).includes(value)) {
      throw new ConfigError(`${env} must be ${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}, not "${value}"`);
    }
    return value as T;
  };

function required(raw: string | undefined, env: string): string {
  if (raw === undefined || raw.trim() === '') throw new ConfigError(`${env} must be set`);
  return raw;
}

export function list(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function boolean(raw: string | undefined, env: string): boolean {
  if (/^(true|1|yes)$/i.test(required(raw, env).trim())) return true;
  if (/^(false|0|no)$/i.test(raw!.trim())) return false;
  throw new ConfigError(`${env} must be true or false, not "${raw}"`);
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

/**
 * One setting, declared once: the variable, the configuration key it fills, what it means (the
 * README's table says it), its default written as the variable would be, and its parser, which
 * gets the variable or else the default. The configuration's type comes from the parsers (ConfigOf).
 */
export interface Setting<K extends string = string, T = unknown> {
  env: string;
  key: K;
  description: string;
  /** The default, as the variable would say it. */
  default?: string;
  /** What the README says after the default, e.g. "10 MiB"; or, for a setting without a plain default, in its place. */
  defaultNote?: string;
  parse(raw: string | undefined, env: string): T;
}

/** Declares a setting, keeping its key's literal type. */
export const setting = <K extends string, T>(declaration: Setting<K, T>): Setting<K, T> => declaration;

/** The configuration that settings fill: each key with its parser's type. */
export type ConfigOf<S extends readonly Setting[]> = { [D in S[number] as D['key']]: ReturnType<D['parse']> };

/** The README's words for a setting's default. */
export function defaultText(s: Pick<Setting, 'default' | 'defaultNote'>): string {
  if (s.default === undefined) return s.defaultNote ?? '';
  return s.defaultNote ? `${s.default} (${s.defaultNote})` : s.default;
}
