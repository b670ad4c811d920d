/**
 * How requests are checked against their schemas. Query strings and path parameters arrive as
 * text, so ajv turns them into the schema's types ("true" → true, "20" → 20). A JSON body arrives
 * typed: a value of the wrong type there is the client's mistake and is refused, never converted
 * (`"body": 0.5` is not a script, `"ticket": 12` is not a ticket).
 */
import { AjvCompiler, type Options } from '@fastify/ajv-compiler';
import type { FastifyServerOptions } from 'fastify';

type BuildValidator = NonNullable<NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator']>;

const fromPool = AjvCompiler();

/** fastify's own validator (the server's `ajv` options), except that a body's types are exact. */
export const buildValidator: BuildValidator = (externalSchemas, serverAjv) => {
  const options = serverAjv as { customOptions?: Options };
  const coercing = fromPool(externalSchemas, options);
  const exact = fromPool(externalSchemas, { ...options, customOptions: { ...options.customOptions, coerceTypes: false } });
  return (route) => (route.httpPart === 'body' ? exact : coercing)(route);
};
