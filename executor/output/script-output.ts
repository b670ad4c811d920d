/**
 * Where a runtime sends the script's output. Each line is checked for a service message
 * (setVariable becomes an output variable and is not logged), masked, and appended to the log.
 * Shared by every runtime so that masking and parsing behave the same wherever a script runs.
 * Output lines count against the operation's log limits; the product's own system lines do not.
 *
 * Only what comes from outside the product is masked: the script's lines, and any text a caller
 * masks with `mask` (a failure message quoting an error). The product's own lines are stored as
 * they are: a sensitive value that happens to be one of their words would be given away by the mask.
 * An output variable whose value is, or holds, a sensitive value is sensitive itself, whatever the
 * script said: it would otherwise carry the secret out unmasked.
 */
import type { OutputVariables } from '../../core/contract/status.js';
import type { LogWriter } from '../../core/log-store.js';
import { Masker } from './masker.js';
import { asSetVariable, parseServiceMessage } from './service-messages.js';

export class ScriptOutput {
  private readonly masker: Masker;
  private readonly variables: OutputVariables = {};
  private firstLine: (() => void) | undefined;

  /** `onFirstLine`: called at the script's first line (the timeline's firstLine). */
  constructor(
    private readonly writer: LogWriter,
    sensitiveValues: Iterable<string>,
    onFirstLine?: () => void,
  ) {
    this.firstLine = onFirstLine;
    this.masker = new Masker(sensitiveValues);
  }

  /** `droppedBytes`: how much of the line was cut off before it got here (see LineSplitter). */
  line(stream: 'stdout' | 'stderr', text: string, at?: number, origin?: string, droppedBytes = 0): void {
    if (this.firstLine) {
      this.firstLine();
      this.firstLine = undefined;
    }
    if (text.startsWith('##octopus[')) {
      const message = parseServiceMessage(text);
      const variable = message && asSetVariable(message);
      if (variable) {
        const sensitive = variable.sensitive || this.holdsSecret(variable.value);
        if (sensitive) this.masker.add(variable.value);
        this.variables[variable.name] = { value: variable.value, sensitive };
        return;
      }
    }
    if (droppedBytes === 0) {
      this.writer.append(stream, this.masker.mask(text), at, origin);
      return;
    }
    const kept = Buffer.byteLength(text);
    this.writer.append(stream, this.masker.maskCut(text), at, origin);
    this.writer.append('system', `The line above was truncated: ${droppedBytes} of its ${kept + droppedBytes} bytes are not stored`, at);
  }

  /**
   * A line of the product's own (what happens to the operation, its outcome): always stored, never
   * masked (a failure message in it was masked already when it quotes outside text). `origin`: see LogWriter.append.
   */
  system(text: string, origin?: string): void {
    this.writer.note(text, origin);
  }

  /** `text` with every sensitive value of the operation masked: for whatever else may show one (a failure message, an error). */
  mask(text: string): string {
    return this.masker.mask(text);
  }

  /** A variable set before the sensitive value it holds was known (a later sensitive output variable) is sensitive too. */
  get outputVariables(): OutputVariables {
    return Object.fromEntries(
      Object.entries(this.variables).map(([name, variable]) => [
        name,
        { value: variable.value, sensitive: variable.sensitive || this.holdsSecret(variable.value) },
      ]),
    );
  }

  private holdsSecret(value: string): boolean {
    return this.masker.mask(value) !== value;
  }

  get lastSequence(): number {
    return this.writer.lastSequence;
  }

  close(): Promise<void> {
    return this.writer.close();
  }
}
