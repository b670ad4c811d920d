// The Redis commands are Lua files beside the code that runs them (core/lua-commands.ts);
// tsc compiles only the TypeScript, so the build copies them into dist/ at the same places.
import { cpSync } from 'node:fs';

const isFolderOrLua = (path) => !/\.[a-z]+$/.test(path) || path.endsWith('.lua');
for (const dir of ['core', 'executor']) cpSync(dir, `dist/${dir}`, { recursive: true, filter: isFolderOrLua });
