/**
 * Where a runtime sends the script's output. Each line is checked for a service message
 * (setVariable becomes an output variable and is not logged), masked, and appended to the log.
 * Shared by every runtime so that masking and parsing behave the same wherever a script runs.
 */
import type { OutputVariables } from '../../core/contract/status.js';
import type { LogWriter } from '../../core/log-store.js';
import { Masker } from './masker.js';
import { asSetVariable, parseServiceMessage } from './service-messages.js';

export class ScriptOutput {
  private readonly masker: Masker;
  private readonly variables: OutputVariables = {};

  constructor(private readonly writer: LogWriter, sensitiveValues: Iterable<string>) {
    this.masker = new Masker(sensitiveValues);
  }

  line(stream: 'stdout' | 'stderr', text: string, at?: number, origin?: string): void {
    if (text.startsWith('##octopus[')) {
      const message = parseServiceMessage(text);
      const variable = message && asSetVariable(message);
      if (variable) {
        if (variable.sensitive) this.masker.add(variable.value);
        this.variables[variable.name] = { value: variable.value, sensitive: variable.sensitive };
        return;
      }
    }
    this.writer.append(stream, this.masker.mask(text), at, origin);
  }

  system(text: string): void {
    this.writer.append('system', this.masker.mask(text));
  }

  get outputVariables(): OutputVariables {
    return this.variables;
  }

  get lastSequence(): number {
    return this.writer.lastSequence;
  }

  close(): Promise<void> {
    return this.writer.close();
  }
}
