import { describe, expect, it } from 'vitest';
import { asSetVariable, parseServiceMessage, type ServiceMessage } from '../../executor/output/service-messages.js';

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

describe('parseServiceMessage', () => {
  it.each<[string, string, ServiceMessage]>([
    [
      'a setVariable message with base64 attributes',
      "##octopus[setVariable name='VmVyc2lvbg==' value='MS4yLjM=' sensitive='RmFsc2U=']",
      { name: 'setVariable', attributes: { name: 'Version', value: '1.2.3', sensitive: 'False' } },
    ],
    ['a message without attributes', '##octopus[stdout-warning]', { name: 'stdout-warning', attributes: {} }],
    ['surrounding whitespace', '  ##octopus[stdout-verbose]  \r', { name: 'stdout-verbose', attributes: {} }],
    [
      'extra spaces between attributes',
      `##octopus[createArtifact   path='${b64('out/a.zip')}'  name='${b64('a.zip')}' ]`,
      { name: 'createArtifact', attributes: { path: 'out/a.zip', name: 'a.zip' } },
    ],
    [
      'UTF-8 values',
      `##octopus[setVariable name='${b64('Grüße')}' value='${b64('€ 5')}']`,
      { name: 'setVariable', attributes: { name: 'Grüße', value: '€ 5' } },
    ],
    ['an empty attribute value', "##octopus[setVariable name='TmFtZQ==' value='']", { name: 'setVariable', attributes: { name: 'Name', value: '' } }],
  ])('parses %s', (_case, line, expected) => {
    expect(parseServiceMessage(line)).toEqual(expected);
  });

  it.each([
    ['a plain log line', 'hello world'],
    ['an empty line', ''],
    ['a message after other text', "echo ##octopus[setVariable name='YQ==' value='Yg==']"],
    ['a message with text after it', '##octopus[stdout-warning] and more'],
    ['a missing closing bracket', "##octopus[setVariable name='YQ==' value='Yg=='"],
    ['an empty message name', '##octopus[]'],
    ['an unquoted attribute', '##octopus[setVariable name=YQ==]'],
    ['a double-quoted attribute', '##octopus[setVariable name="YQ=="]'],
    ['an attribute without a space before it', "##octopus[setVariable name='YQ=='value='Yg==']"],
    ['another prefix', "##teamcity[setParameter name='a' value='b']"],
    ['a single hash', '#octopus[stdout-warning]'],
  ])('ignores %s', (_case, line) => {
    expect(parseServiceMessage(line)).toBeUndefined();
  });
});

describe('asSetVariable', () => {
  it.each([
    [
      'a non-sensitive variable',
      `name='${b64('Version')}' value='${b64('1.2.3')}' sensitive='${b64('False')}'`,
      { name: 'Version', value: '1.2.3', sensitive: false },
    ],
    [
      'a sensitive variable',
      `name='${b64('Password')}' value='${b64('s3cret')}' sensitive='${b64('True')}'`,
      { name: 'Password', value: 's3cret', sensitive: true },
    ],
    ['sensitive written in lower case', `name='${b64('P')}' value='${b64('x')}' sensitive='${b64('true')}'`, { name: 'P', value: 'x', sensitive: true }],
    ['no sensitive attribute as not sensitive', `name='${b64('A')}' value='${b64('b')}'`, { name: 'A', value: 'b', sensitive: false }],
    ['no value as an empty value', `name='${b64('A')}'`, { name: 'A', value: '', sensitive: false }],
  ])('reads %s', (_case, attributes, expected) => {
    const message = parseServiceMessage(`##octopus[setVariable ${attributes}]`);
    expect(message).toBeDefined();
    expect(asSetVariable(message!)).toEqual(expected);
  });

  it.each<[string, ServiceMessage]>([
    ['another message', { name: 'stdout-warning', attributes: {} }],
    ['another message with a name attribute', { name: 'createArtifact', attributes: { name: 'a.zip', path: 'a.zip' } }],
    ['a setVariable without a name', { name: 'setVariable', attributes: { value: 'x' } }],
    ['a setVariable with an empty name', { name: 'setVariable', attributes: { name: '', value: 'x' } }],
  ])('gives nothing for %s', (_case, message) => {
    expect(asSetVariable(message)).toBeUndefined();
  });
});
