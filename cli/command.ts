/** What a command is: its options, how it is invoked, what it answers. The commands and the table that lists them (command-table.ts) share these. */
import type { Config } from '../core/config.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** How the value reads in help, e.g. NAME=VALUE. */
  value?: string;
  /** The only values accepted, also offered by shell completion. */
  choices?: readonly string[];
  description: string;
}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export interface Invocation {
  /** The settings, read from the environment on first use: help and completion need none. */
  config(): Promise<Config>;
  args: string[];
  options: OptionValues;
  env: NodeJS.ProcessEnv;
}

export interface Command {
  name: string;
  /** Arguments as help shows them, e.g. `<ticket>...`. */
  args: string;
  minArgs: number;
  maxArgs: number;
  summary: string;
  options: Record<string, OptionSpec>;
  /** Defaults of settings that differ for this command (dispatcher and executor listen on every interface). */
  configDefaults?: Record<string, string>;
  /** Resolves to an exit code; server commands resolve once serving and keep the process alive. */
  run(invocation: Invocation): Promise<number | 'serving'>;
}
