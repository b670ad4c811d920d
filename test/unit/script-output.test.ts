import { describe, expect, it } from 'vitest';
import type { LogStream } from '../../core/contract/status.js';
import type { LogWriter } from '../../core/log-store.js';
import { MASK } from '../../executor/output/masker.js';
import { ScriptOutput } from '../../executor/output/script-output.js';

function output(sensitive: string[]): { output: ScriptOutput; lines: { stream: LogStream; text: string }[] } {
  const lines: { stream: LogStream; text: string }[] = [];
  const writer = {
    append: (stream: LogStream, text: string) => void lines.push({ stream, text }),
    note: (text: string) => void lines.push({ stream: 'system', text }),
    lastSequence: 0,
    close: async () => undefined,
  } as unknown as LogWriter;
  return { output: new ScriptOutput(writer, sensitive), lines };
}

const b64 = (text: string): string => Buffer.from(text).toString('base64');
const setVariable = (name: string, value: string, sensitive?: boolean): string =>
  `##octopus[setVariable name='${b64(name)}' value='${b64(value)}'${sensitive === undefined ? '' : ` sensitive='${b64(sensitive ? 'True' : 'False')}'`}]`;

describe('ScriptOutput', () => {
  describe('an output variable', () => {
    it.each<[string, string, boolean]>([
      ['is sensitive when its value is a sensitive value', 'hunter2-db', true],
      ['is sensitive when its value holds a sensitive value', 'postgres://app:hunter2-db@db:5432/app', true],
      ['is sensitive when its value holds a line of a sensitive file', 'copied password=file-line-secret', true],
      ['is not sensitive otherwise', 'hunter2 db', false],
    ])('%s, whatever the script said', (_case, value, sensitive) => {
      const { output: out, lines } = output(['hunter2-db', 'user=admin\npassword=file-line-secret\n']);
      out.line('stdout', setVariable('COPY', value, false));
      out.line('stdout', `echo ${value}`);
      expect(out.outputVariables).toEqual({ COPY: { value, sensitive } });
      if (sensitive) expect(lines).toEqual([{ stream: 'stdout', text: `echo ${MASK}` }]);
    });

    it('is sensitive when it holds a sensitive output variable set after it', () => {
      const { output: out } = output([]);
      out.line('stdout', setVariable('URL', 'https://ci:tok-88231@example.com/'));
      out.line('stdout', setVariable('TOKEN', 'tok-88231', true));
      out.line('stdout', setVariable('PLAIN', 'example.com'));
      expect(out.outputVariables).toEqual({
        URL: { value: 'https://ci:tok-88231@example.com/', sensitive: true },
        TOKEN: { value: 'tok-88231', sensitive: true },
        PLAIN: { value: 'example.com', sensitive: false },
      });
    });
  });

  describe('masking', () => {
    it("masks the script's lines and whatever is asked, but never the product's own lines", () => {
      const { output: out, lines } = output(['executor', 'Succeeded']);
      out.system('Picked up by executor vm-1 (local runtime)');
      out.line('stdout', 'the executor said Succeeded');
      out.line('stderr', 'executor');
      out.system('Succeeded');
      expect(lines).toEqual([
        { stream: 'system', text: 'Picked up by executor vm-1 (local runtime)' },
        { stream: 'stdout', text: `the ${MASK} said ${MASK}` },
        { stream: 'stderr', text: MASK },
        { stream: 'system', text: 'Succeeded' },
      ]);
      expect(out.mask('could not pass executor')).toBe(`could not pass ${MASK}`);
    });
  });
});
