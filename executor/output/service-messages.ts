/**
 * Service messages a script prints to talk to the deployment server, e.g.
 *   ##octopus[setVariable name='VmVyc2lvbg==' value='MS4yLjM=' sensitive='RmFsc2U=']
 * Attribute values are base64 (UTF-8). Parsing is pure; what to do with a message is the caller's.
 */
export interface ServiceMessage {
  name: string;
  attributes: Record<string, string>;
}

const MESSAGE = /^##octopus\[([A-Za-z][\w-]*)((?:\s+[A-Za-z][\w-]*='[^']*')*)\s*\]\s*$/;
const ATTRIBUTE = /([A-Za-z][\w-]*)='([^']*)'/g;

function decode(value: string): string {
  return Buffer.from(value, 'base64').toString('utf8');
}

export function parseServiceMessage(line: string): ServiceMessage | undefined {
  const match = MESSAGE.exec(line.trim());
  if (!match) return undefined;
  const attributes: Record<string, string> = {};
  for (const [, key, value] of (match[2] ?? '').matchAll(ATTRIBUTE)) attributes[key!] = decode(value!);
  return { name: match[1]!, attributes };
}

export interface SetVariable {
  name: string;
  value: string;
  sensitive: boolean;
}

/** The output variable a setVariable message sets, or undefined for any other message. */
export function asSetVariable(message: ServiceMessage): SetVariable | undefined {
  if (message.name !== 'setVariable' || !message.attributes.name) return undefined;
  return {
    name: message.attributes.name,
    value: message.attributes.value ?? '',
    sensitive: (message.attributes.sensitive ?? '').toLowerCase() === 'true',
  };
}
