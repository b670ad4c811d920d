// Loaded with --import into a process under test: appends every module it resolves from
// @opentelemetry/ to the file KW_TEST_LOADS_FILE names, so a test can say what the process loaded.
import { appendFileSync } from 'node:fs';
import process from 'node:process';
import { registerHooks } from 'node:module';

const file = process.env.KW_TEST_LOADS_FILE;
if (file) {
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const resolved = nextResolve(specifier, context);
      if (resolved.url.includes('/@opentelemetry/')) appendFileSync(file, `${resolved.url}\n`);
      return resolved;
    },
  });
}
