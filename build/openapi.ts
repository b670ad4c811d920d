/**
 * `npm run openapi`: writes the API's contract from the code (build/openapi-contract.ts), for review
 * with the change that made it. `--document <file>`: the document alone, elsewhere (for the linter).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { documentText, openApiDocument } from '../dispatcher/openapi-document.js';
import { clientTypes, DOCUMENT_FILE, TYPES_FILE } from './openapi-contract.js';

const { values } = parseArgs({ options: { document: { type: 'string' } } });
const document = await openApiDocument();
if (values.document) {
  await mkdir(path.dirname(values.document), { recursive: true });
  await writeFile(values.document, documentText(document));
} else {
  await writeFile(DOCUMENT_FILE, documentText(document));
  await writeFile(TYPES_FILE, await clientTypes(document));
  console.info(`wrote ${path.relative(process.cwd(), DOCUMENT_FILE)} and ${path.relative(process.cwd(), TYPES_FILE)}`);
}
