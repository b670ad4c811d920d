import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { clientTypes, DOCUMENT_FILE, REGENERATE, TYPES_FILE } from '../../build/openapi-contract.js';
import { documentText, openApiDocument } from '../../dispatcher/openapi-document.js';

// A change to the API is a reviewed change to these files: each test fails until they are regenerated.
describe('the committed API contract', () => {
  it('docs/openapi.json is the document the dispatcher serves', async () => {
    const committed = await readFile(DOCUMENT_FILE, 'utf8');
    const generated = documentText(await openApiDocument());
    expect(generated === committed, `the API changed and docs/openapi.json does not say so: run \`${REGENERATE}\` and review the difference`).toBe(true);
  }, 60_000);

  it('client/openapi.ts holds the types generated from docs/openapi.json', async () => {
    const committed = await readFile(TYPES_FILE, 'utf8');
    const generated = await clientTypes(JSON.parse(await readFile(DOCUMENT_FILE, 'utf8')) as object);
    expect(generated === committed, `client/openapi.ts is not generated from docs/openapi.json: run \`${REGENERATE}\``).toBe(true);
  }, 60_000);

  it('names every operation, sums it up, and shows an example of each answer and each error', async () => {
    const document = JSON.parse(await readFile(DOCUMENT_FILE, 'utf8')) as { paths: Record<string, Record<string, any>> };
    const operations = Object.values(document.paths).flatMap((methods) => Object.values(methods));
    expect(operations.length).toBe(7);
    for (const operation of operations) {
      expect(operation.operationId).toMatch(/^[a-z][A-Za-z]+$/);
      expect(operation.summary).toBeTruthy();
      for (const [status, response] of Object.entries<any>(operation.responses)) {
        if (status === '204') continue;
        const [type, media] = Object.entries<any>(response.content)[0]!;
        expect(type).toBe(Number(status) >= 400 ? 'application/problem+json' : type);
        if (Number(status) >= 400) expect(media.schema).toEqual({ $ref: '#/components/schemas/Problem' });
        expect(Object.keys(media.examples ?? {}).length, `${operation.operationId} ${status}`).toBeGreaterThan(0);
      }
    }
  });
});
