// What the build needs beyond tsc, which compiles only the TypeScript and writes every file 0644:
// - the Redis commands are Lua files beside the code that runs them (core/lua-commands.ts), copied
//   into dist/ at the same places;
// - the CLI is the package's bin, run as `npx kube-worker` from a clone: it must be executable.
import { chmodSync, cpSync } from 'node:fs';

const isFolderOrLua = (path) => !/\.[a-z]+$/.test(path) || path.endsWith('.lua');
for (const dir of ['core', 'executor']) cpSync(dir, `dist/${dir}`, { recursive: true, filter: isFolderOrLua });
chmodSync('dist/cli/main.js', 0o755);
