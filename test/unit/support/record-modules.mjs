/* global process */
// Loaded with `node --import`: appends the URL of every module the process loads (ESM and
// CommonJS alike) to the file named by RECORD_MODULES_TO, one per line.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';

const file = process.env.RECORD_MODULES_TO;
register(
  `data:text/javascript,${encodeURIComponent(`
import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(${JSON.stringify(file)}, url + '\\n');
  return next(url, context);
}`)}`,
);
const loadCommonJs = Module._load;
Module._load = function (request, parent, isMain) {
  appendFileSync(file, `${Module._resolveFilename(request, parent, isMain)}\n`);
  return loadCommonJs.apply(this, arguments);
};
