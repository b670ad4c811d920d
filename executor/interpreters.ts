/** Which program runs a script of each syntax, and the file name the script is written to — the same in every runtime. */
import type { ScriptSyntax } from '../core/contract/operation.js';

export interface Interpreter {
  command: string;
  /** Arguments before the script path. */
  flags: string[];
  scriptFile: string;
}

export const INTERPRETERS: Record<ScriptSyntax, Interpreter> = {
  bash: { command: 'bash', flags: [], scriptFile: 'script.sh' },
  sh: { command: 'sh', flags: [], scriptFile: 'script.sh' },
  python: { command: 'python3', flags: ['-u'], scriptFile: 'script.py' },
  powershell: { command: 'pwsh', flags: ['-NoLogo', '-NoProfile', '-NonInteractive', '-File'], scriptFile: 'script.ps1' },
};
