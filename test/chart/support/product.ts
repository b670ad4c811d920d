/**
 * What the product says about itself, to check packaging against: the commands of the real CLI
 * (its own --help, run through tsx so no build is needed), the settings it reads, and the
 * defaults README.md promises.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { SETTINGS } from '../../../core/config.js';

export async function cliCommands(): Promise<string[]> {
  const usage = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', 'cli/main.ts', '--help'], (error, stdout) => (error ? reject(error) : resolve(stdout)));
  });
  const commands = usage.split('Commands:')[1]?.split('\n\n')[0] ?? '';
  // Commands start their line after two spaces; their options are indented further.
  return [...commands.matchAll(/^ {2}([a-z]+)\b/gm)].map((match) => match[1]!);
}

/** Every environment variable the product reads. */
export const SETTING_NAMES: ReadonlySet<string> = new Set(SETTINGS.map((setting) => setting.env));

/** The default README.md's Settings table gives a variable. */
export function readmeDefault(name: string): string {
  const row = readFileSync('README.md', 'utf8')
    .split('\n')
    .find((line) => line.startsWith(`| \`${name}\` |`));
  const value = row?.split('|')[2]?.trim();
  if (!value) throw new Error(`README.md's Settings table has no row for ${name}`);
  return value;
}
