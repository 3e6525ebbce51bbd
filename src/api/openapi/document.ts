import { z } from 'zod';
import { telnyxErrorsSchema } from '../schemas/common.ts';
import { OPERATIONS, type Operation } from './operations.ts';

type JsonSchema = Record<string, unknown>;

const strip = ({ $schema: _s, $id: _i, ...rest }: JsonSchema) => rest;
const componentName = (op: Operation, part: string) => `${op.operationId}${part}`;

function queryParameters(query: z.ZodObject) {
  return Object.entries(query.shape).map(([name, schema]) => {
    const json = strip(
      z.toJSONSchema(schema as z.ZodType, { target: 'draft-2020-12', io: 'input' }) as JsonSchema,
    );
    const isObject = json.type === 'object';
    return {
      name,
      in: 'query',
      required: false,
      ...(isObject ? { style: 'deepObject', explode: true } : {}),
      ...(typeof json.description === 'string' ? { description: json.description } : {}),
      schema: json,
    };
  });
}

/**
 * The OpenAPI 3.1 document, generated from the route list and its zod schemas. Every schema with an
 * id (`.meta({ id })`) and each operation's body and response become components.
 */
export function buildOpenApiDocument(serverUrl: string) {
  const registry = z.registry<{ id: string }>();
  const seen = new Set<z.ZodType>();
  const register = (schema: z.ZodType, id: string) => {
    if (seen.has(schema)) return;
    seen.add(schema);
    registry.add(schema, { id: (z.globalRegistry.get(schema)?.id as string | undefined) ?? id });
  };
  for (const [schema, meta] of namedSchemas()) register(schema, meta);
  register(telnyxErrorsSchema, 'messaging_Errors');
  for (const op of OPERATIONS) {
    if (op.body) register(op.body, componentName(op, 'Request'));
    register(op.response, componentName(op, 'Response'));
  }
  const ref = (schema: z.ZodType) => ({ $ref: `#/components/schemas/${registry.get(schema)!.id}` });
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io: 'input',
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, JsonSchema> };

  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const parameters = [
      ...(op.params ?? []).map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
      ...(op.query ? queryParameters(op.query) : []),
    ];
    paths[op.path] = paths[op.path] ?? {};
    paths[op.path]![op.method] = {
      operationId: op.operationId,
      summary: op.summary,
      tags: [op.tag],
      ...(op.extension ? { 'x-extension': true } : {}),
      ...(op.public ? { security: [] } : {}),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(op.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: ref(op.body) } } } }
        : {}),
      responses: {
        '200': { description: 'Success', content: { 'application/json': { schema: ref(op.response) } } },
        '4XX': {
          description: 'Telnyx error',
          content: { 'application/json': { schema: ref(telnyxErrorsSchema) } },
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'mms-gateway',
      version: '0.1.0',
      description:
        "Telnyx's v2 Messaging API as mms-gateway implements it. Operations marked `x-extension` are not part of Telnyx's API.",
    },
    servers: [{ url: `${serverUrl}/v2` }],
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } },
      schemas: Object.fromEntries(Object.entries(schemas).map(([id, s]) => [id, strip(s)])),
    },
  };
}

/** Schemas named with `.meta({ id })` anywhere in the route list's schemas (they become shared components). */
function namedSchemas(): Array<[z.ZodType, string]> {
  const out: Array<[z.ZodType, string]> = [];
  // z.globalRegistry has no iteration API; its ids are found while converting each operation's schemas.
  const found = new Map<string, z.ZodType>();
  for (const op of OPERATIONS) {
    for (const schema of [op.body, op.response]) {
      if (!schema) continue;
      z.toJSONSchema(schema, {
        target: 'draft-2020-12',
        io: 'input',
        override: (ctx) => {
          const id = z.globalRegistry.get(ctx.zodSchema)?.id;
          if (typeof id === 'string' && !found.has(id)) found.set(id, ctx.zodSchema as unknown as z.ZodType);
        },
      });
    }
  }
  for (const [id, schema] of found) out.push([schema, id]);
  return out;
}
