/**
 * The launcher each script pod runs first (POSIX sh, from the operation's Secret): it copies the
 * operation's files into a writable workspace, runs the script with its interpreter and arguments,
 * and tags every stderr line with a marker, because a pod log merges both streams. Its first and
 * last lines are the seal and the end line (end-marker.ts), so the executor learns how the script
 * ended from the log itself.
 */
import type { OperationRequest } from '../../core/contract/operation.js';
import { INTERPRETERS } from '../interpreters.js';
import { END_LINES, SEAL_LINES } from './end-marker.js';

export const OPERATION_DIR = '/kube-worker/operation';
export const WORKSPACE_DIR = '/kube-worker/workspace';
export const TMP_DIR = '/kube-worker/tmp';
export const LAUNCHER_KEY = 'launcher.sh';
export const SCRIPT_KEY = 'script';
/** Marks a pod log line that the script wrote to stderr. */
export const STDERR_MARK = '\u001e';

const quote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

export function launcherScript(request: OperationRequest): string {
  const interpreter = INTERPRETERS[request.script.syntax];
  const command = [interpreter.command, ...interpreter.flags, `${OPERATION_DIR}/${SCRIPT_KEY}`, ...(request.arguments ?? [])].map(quote).join(' ');
  return [
    '#!/bin/sh',
    ...SEAL_LINES,
    `cp -R ${OPERATION_DIR}/files/. ${WORKSPACE_DIR}/ 2>/dev/null`,
    `cd ${WORKSPACE_DIR} || exit 70`,
    `fifo=${TMP_DIR}/stderr.$$`,
    'mkfifo "$fifo" || exit 70',
    `(while IFS= read -r line || [ -n "$line" ]; do printf '\\036%s\\n' "$line"; done < "$fifo") &`,
    'tagger=$!',
    `${command} 2>"$fifo"`,
    'code=$?',
    'wait "$tagger"',
    'rm -f "$fifo"',
    ...END_LINES,
    'exit "$code"',
    '',
  ].join('\n');
}
