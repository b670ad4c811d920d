/**
 * How a route declares its answers, for fastify (which serializes each with its schema) and for the
 * OpenAPI document (which shows each with its media type, a description and examples): a success
 * as JSON, and every error the route can answer as `application/problem+json` with an example of
 * each code it may carry (the catalogue's, core/errors.ts).
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { ERRORS, type ErrorCode } from '../../core/errors.js';
import { problem } from '../plugins/problems.js';

/** An OpenAPI Example Object. */
export interface Example {
  summary: string;
  value: unknown;
}

/** A JSON answer: its schema (a Type.Ref to a shared one, so the document names it), what it means, examples. */
export function answer(description: string, schema: TSchema, examples: Record<string, Example>) {
  return { description, content: { 'application/json': { schema, examples } } };
}

/**
 * The errors of a route, one response per status: the problem schema and, for each code, an
 * example as the API writes it for `path`.
 */
export function problemAnswers(path: string, codes: readonly ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERRORS[code].status, [...(byStatus.get(ERRORS[code].status) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, sharing]) => [
      status,
      {
        description: sharing.map((code) => ERRORS[code].title).join('; '),
        content: {
          'application/problem+json': {
            schema: Type.Ref('Problem'),
            examples: Object.fromEntries(sharing.map((code) => [code, { summary: ERRORS[code].title, value: problem(code, ERRORS[code].example, path) }])),
          },
        },
      },
    ]),
  );
}

/** What any API route can answer: a second Authorization header, no valid token, a failure of its own, Redis away. */
export const ANY_ROUTE: readonly ErrorCode[] = ['KW_ERR_VALIDATION', 'KW_ERR_UNAUTHORIZED', 'KW_ERR_INTERNAL', 'KW_ERR_UNAVAILABLE'];

/** What a route on one operation adds: no such ticket, or a path part longer than any ticket. */
export const TICKET_ROUTE: readonly ErrorCode[] = [...ANY_ROUTE, 'KW_ERR_NOT_FOUND', 'KW_ERR_URI_TOO_LONG'];
