/**
 * Redis commands kept as Lua files, as BullMQ keeps its own: one file per command, named
 * `<command>-<number of keys>.lua`, opening with the contract of its KEYS and ARGV. A line
 * `--@include <snippet>` stands for `<snippet>.lua` of the same folder, so that two commands that
 * do the same thing (end a record, append to a log) share one snippet instead of two copies.
 *
 * Files are read when a store first defines its commands on a connection, never at import time.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { RedisClient } from './redis.js';

const COMMAND_FILE = /^([a-z][a-zA-Z]*)-(\d+)\.lua$/;
const INCLUDE = /^--@include ([a-z][a-zA-Z-]*)$/gm;

interface LuaCommand {
  name: string;
  numberOfKeys: number;
  lua: string;
}

const loaded = new Map<string, LuaCommand[]>();

/** The commands of `folder` (a file URL ending in '/'), their snippets included. */
export function luaCommands(folder: URL): LuaCommand[] {
  const cached = loaded.get(folder.href);
  if (cached) return cached;
  const read = (file: string, seen: string[]): string => {
    if (seen.includes(file)) throw new Error(`Lua snippet ${file} includes itself through ${seen.join(' → ')}`);
    return readFileSync(new URL(file, folder), 'utf8').replace(INCLUDE, (_line, snippet: string) => read(`${snippet}.lua`, [...seen, file]));
  };
  const commands = readdirSync(folder)
    .map((file) => COMMAND_FILE.exec(file))
    .filter((match): match is RegExpExecArray => match !== null)
    .map(([file, name, keys]) => ({ name: commandName(name!), numberOfKeys: Number(keys), lua: read(file, []) }));
  loaded.set(folder.href, commands);
  return commands;
}

/** `claim` → `kwClaim`: the product's commands never shadow a Redis command or one of BullMQ's. */
const commandName = (name: string): string => `kw${name[0]!.toUpperCase()}${name.slice(1)}`;

/**
 * Defines the commands of `folder` on `redis` (once per connection) and returns it typed with
 * them: `T` names each command and the reply it gives.
 */
export function withLuaCommands<T extends Record<string, unknown>, R extends RedisClient = RedisClient>(
  redis: R,
  folder: URL,
): R & { [K in keyof T]: (...args: (string | number)[]) => Promise<T[K]> } {
  for (const { name, numberOfKeys, lua } of luaCommands(folder)) {
    if (!(name in redis)) redis.defineCommand(name, { numberOfKeys, lua });
  }
  return redis as R & { [K in keyof T]: (...args: (string | number)[]) => Promise<T[K]> };
}
