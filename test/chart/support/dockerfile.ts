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

export function parseDockerfile(source: string): Stage[] {
  const logical = source
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword = '', text = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const instruction: Instruction = { keyword: keyword.toUpperCase(), text: text.replace(/\s+/g, ' ') };
    if (text.startsWith('[')) instruction.exec = JSON.parse(text) as string[];
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = instruction.text.split(' ');
      stages.push({ from: image, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`${instruction.keyword} before any FROM`);
      stage.instructions.push(instruction);
    }
  }
  return stages;
}

export const all = (stage: Stage, keyword: string): Instruction[] => stage.instructions.filter((i) => i.keyword === keyword);
export const last = (stage: Stage, keyword: string): Instruction | undefined => all(stage, keyword).at(-1);
