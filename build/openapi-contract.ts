/**
 * The API's contract as committed: the OpenAPI document built from the dispatcher, and the client's
 * TypeScript types generated from it by openapi-typescript. `npm run openapi` writes both; tests
 * check that both are what the code gives now.
 */
import path from 'node:path';
import openapiTS, { astToString, COMMENT_HEADER, type OpenAPI3 } from 'openapi-typescript';

const ROOT = path.resolve(import.meta.dirname, '..');
export const DOCUMENT_FILE = path.join(ROOT, 'docs/openapi.json');
export const TYPES_FILE = path.join(ROOT, 'client/openapi.ts');
export const REGENERATE = 'npm run openapi';

export async function clientTypes(document: object): Promise<string> {
  // A field with a default is optional to send (the server fills it in): not required in the types.
  const nodes = await openapiTS(document as OpenAPI3, { defaultNonNullable: false, silent: true });
  return COMMENT_HEADER + astToString(nodes);
}
