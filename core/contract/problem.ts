/** The error document (RFC 9457 problem details) every failed API call returns. */
import { Type, type Static } from '@sinclair/typebox';
import { ERRORS, type ErrorCode } from '../errors.js';

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String({ description: 'What went wrong and what to fix.' }),
    code: Type.Union(
      (Object.keys(ERRORS) as ErrorCode[]).map((code) => Type.Literal(code)),
      { description: 'Stable error code.' },
    ),
    instance: Type.Optional(Type.String({ description: 'The path asked for; left out when the path itself is what is wrong (too long, not a path).' })),
  },
  { $id: 'Problem' },
);
export type Problem = Static<typeof Problem>;
