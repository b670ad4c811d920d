/**
 * Which of an operation's variables reach its script as environment variables — the same rules in
 * every runtime. The product's own (`KUBE_WORKER_*`) are set by the runtime and always win; the
 * dynamic loader's (`LD_*`) would act on the interpreter itself before the script starts, so they
 * are not passed (a script may still set them for what it runs). A name or a value that an
 * environment cannot hold is refused, naming the variable, never showing its value.
 */
import type { OperationRequest } from '../core/contract/operation.js';

/** Names the product sets for every script. */
export const PRODUCT_VARIABLE_PREFIX = 'KUBE_WORKER_';
const LOADER_VARIABLE_PREFIX = 'LD_';

export interface ScriptVariables {
  passed: Record<string, string>;
  /** What is not passed, one sentence each, for the operation's log. */
  skipped: string[];
  /** Why the operation cannot run with these variables; undefined when it can. */
  refused?: string;
}

function refusal(name: string, value: string): string | undefined {
  if (name === '') return 'A variable has an empty name, which an environment variable cannot have';
  if (name.includes('=')) return `Variable ${JSON.stringify(name)} has "=" in its name, which an environment variable cannot have`;
  if (name.includes('\0')) return `Variable ${JSON.stringify(name)} has a NUL character in its name, which an environment variable cannot have`;
  if (value.includes('\0')) return `Variable ${JSON.stringify(name)} contains a NUL character, which an environment variable cannot hold`;
  return undefined;
}

export function scriptVariables(variables: OperationRequest['variables'] = {}): ScriptVariables {
  const passed: Record<string, string> = {};
  const skipped: string[] = [];
  for (const [name, { value }] of Object.entries(variables)) {
    const refused = refusal(name, value);
    if (refused) return { passed: {}, skipped: [], refused };
    if (name.startsWith(PRODUCT_VARIABLE_PREFIX)) skipped.push(`Variable ${name} is not passed: kube-worker sets ${PRODUCT_VARIABLE_PREFIX}* variables itself`);
    else if (name.startsWith(LOADER_VARIABLE_PREFIX))
      skipped.push(`Variable ${name} is not passed: ${LOADER_VARIABLE_PREFIX}* variables would change how the interpreter itself is loaded`);
    else passed[name] = value;
  }
  return { passed, skipped };
}
