/** A Dockerfile read as its build stages and instructions (no Docker engine needed). */

export interface Instruction {
  keyword: string;
  /** The rest of the line, continuations joined. */
  text: string;
  /** The exec form (`["a", "b"]`) as a list, when the instruction uses it. */
  exec?: string[];
}

export interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

function logicalLines(source: string): string[] {
  return source
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
}

/** The build arguments declared before the first FROM, which FROM lines may use, with their defaults. */
export function globalArgs(source: string): Record<string, string | undefined> {
  const args: Record<string, string | undefined> = {};
  for (const line of logicalLines(source)) {
    if (/^FROM\s/i.test(line)) break;
    const m = /^ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(\S*))?$/i.exec(line);
    if (m) args[m[1]!] = m[2];
  }
  return args;
}

/** A FROM image with the build arguments' defaults put in (`${NODE_IMAGE}` → `node:24-…`). */
export function expandArgs(image: string, args: Record<string, string | undefined>): string {
  return image.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, name: string) => args[name] ?? '');
}

export function parseDockerfile(source: string): Stage[] {
  const stages: Stage[] = [];
  for (const line of logicalLines(source)) {
    const [, keyword = '', text = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const instruction: Instruction = { keyword: keyword.toUpperCase(), text: text.replace(/\s+/g, ' ') };
    if (text.startsWith('[')) instruction.exec = JSON.parse(text) as string[];
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = instruction.text.split(' ');
      stages.push({ from: image, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage && instruction.keyword === 'ARG') continue; // see globalArgs
      if (!stage) throw new Error(`${instruction.keyword} before any FROM`);
      stage.instructions.push(instruction);
    }
  }
  return stages;
}

export const all = (stage: Stage, keyword: string): Instruction[] => stage.instructions.filter((i) => i.keyword === keyword);
export const last = (stage: Stage, keyword: string): Instruction | undefined => all(stage, keyword).at(-1);
