import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { REPO_ROOT } from './gateway.ts';

export const SPEC_FILES = {
  messaging: path.join(REPO_ROOT, '../shared/reference/telnyx-openapi-messaging-subset.json'),
  extra: path.join(REPO_ROOT, '../shared/reference/telnyx-openapi-extra-subset.json'),
};

export type OpenApiDoc = {
  paths: Record<string, Record<string, { responses?: Record<string, unknown>; [k: string]: unknown }>>;
  components: { schemas: Record<string, unknown>; [k: string]: unknown };
  [k: string]: unknown;
};

export function loadSpec(file: string): OpenApiDoc {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as OpenApiDoc;
}

/** OpenAPI 3.0's `nullable: true` as the spec means it: the type also admits null (JSON Schema 2020-12). */
export function readNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(readNullable);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = readNullable(v);
  if (out.nullable === true) {
    delete out.nullable;
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (Array.isArray(out.type) && !out.type.includes('null')) out.type = [...out.type, 'null'];
    else if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    else if (out.type === undefined) return { anyOf: [out, { type: 'null' }] };
  }
  return out;
}

const pointer = (...parts: string[]) =>
  `#/${parts.map((p) => encodeURIComponent(p.replaceAll('~', '~0').replaceAll('/', '~1'))).join('/')}`;

/** Ajv (JSON Schema 2020-12, formats on) holding both Telnyx subsets, each under its own id. */
export function telnyxAjv() {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addFormat('url', (v: string) => URL.canParse(v));
  ajv.addFormat('float', true);
  ajv.addKeyword('example');
  for (const [id, file] of Object.entries(SPEC_FILES))
    ajv.addSchema(readNullable(loadSpec(file)) as object, id);
  return {
    /** Validator for the JSON body of `status` answered by `method path` in subset `spec`. */
    response(spec: keyof typeof SPEC_FILES, method: string, specPath: string, status = '200') {
      return ajv.compile({
        $ref: `${spec}${pointer('paths', specPath, method, 'responses', status, 'content', 'application/json', 'schema')}`,
      });
    },
    component(spec: keyof typeof SPEC_FILES, name: string) {
      return ajv.compile({ $ref: `${spec}${pointer('components', 'schemas', name)}` });
    },
  };
}
