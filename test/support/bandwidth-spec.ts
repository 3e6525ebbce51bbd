import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { REPO_ROOT } from './gateway.ts';
import { loadSpec, readNullable } from './telnyx-spec.ts';

export const BANDWIDTH_SPEC_FILE = path.join(
  REPO_ROOT,
  '../shared/reference/bandwidth/bandwidth-messaging-openapi-subset.json',
);

/** Validators for the schemas of Bandwidth's shared OpenAPI subset (OpenAPI 3.0 read as JSON Schema 2020-12). */
export function bandwidthAjv() {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addKeyword('example');
  ajv.addKeyword('discriminator');
  ajv.addSchema(readNullable(loadSpec(BANDWIDTH_SPEC_FILE)) as object, 'bandwidth');
  return {
    component(name: string) {
      return ajv.compile({ $ref: `bandwidth#/components/schemas/${name}` });
    },
  };
}

/** Ajv's errors as one line, for assertion messages. */
export function problems(errors: unknown): string {
  return JSON.stringify(errors ?? []);
}
