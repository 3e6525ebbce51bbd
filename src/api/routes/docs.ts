import type { FastifyInstance } from 'fastify';
import { escapeHtml } from '../../dashboard/html.ts';
import { buildOpenApiDocument } from '../openapi/document.ts';

type Doc = ReturnType<typeof buildOpenApiDocument>;

/** `/openapi.json` (OpenAPI 3.1 from the route list's zod schemas) and a readable page of it at `/docs`. */
export function docsRoutes(app: FastifyInstance): void {
  let cached: { origin: string; doc: Doc } | undefined;
  const documentFor = (origin: string) => {
    if (cached?.origin !== origin) cached = { origin, doc: buildOpenApiDocument(origin) };
    return cached.doc;
  };
  const originOf = (request: { protocol: string; host: string }) => `${request.protocol}://${request.host}`;

  app.get('/openapi.json', async (request) => documentFor(originOf(request)));

  app.get('/docs', async (request, reply) => {
    reply.type('text/html; charset=utf-8');
    return renderDocsPage(documentFor(originOf(request)));
  });
}

function renderDocsPage(doc: Doc): string {
  const sections = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, raw]) => {
      const op = raw as {
        operationId: string;
        summary: string;
        'x-extension'?: boolean;
        parameters?: Array<{ name: string; in: string; schema: unknown }>;
        requestBody?: { content: { 'application/json': { schema: { $ref: string } } } };
        responses: { '200': { content: { 'application/json': { schema: { $ref: string } } } } };
      };
      const schemaOf = (ref: string) => doc.components.schemas[ref.split('/').pop()!];
      const block = (title: string, value: unknown) =>
        `<details><summary>${escapeHtml(title)}</summary><pre>${escapeHtml(JSON.stringify(value, null, 2))}</pre></details>`;
      return `<section id="${escapeHtml(op.operationId)}">
<h2><span class="method ${method}">${method.toUpperCase()}</span> <code>/v2${escapeHtml(path)}</code>${op['x-extension'] ? ' <span class="ext">extension</span>' : ''}</h2>
<p>${escapeHtml(op.summary)}</p>
${(op.parameters ?? []).map((p) => block(`${p.in} parameter: ${p.name}`, p.schema)).join('\n')}
${op.requestBody ? block('Request body', schemaOf(op.requestBody.content['application/json'].schema.$ref)) : ''}
${block('200 response', schemaOf(op.responses['200'].content['application/json'].schema.$ref))}
</section>`;
    }),
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>mms-gateway API</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1d2330}
h2{font-size:1.05rem;margin:1.5rem 0 .25rem}section{border-top:1px solid #dde2ea;padding-bottom:.5rem}
.method{display:inline-block;min-width:4.2em;text-align:center;border-radius:4px;color:#fff;font-size:.8rem;padding:1px 6px;background:#3762c6}
.method.post{background:#1f8a4c}.method.patch,.method.put{background:#a86a00}.method.delete{background:#b3261e}
.ext{font-size:.75rem;background:#eef;border-radius:4px;padding:1px 6px}
pre{background:#f5f7fa;padding:.75rem;overflow:auto;font-size:.8rem}summary{cursor:pointer}
</style></head><body>
<h1>mms-gateway API</h1>
<p>${escapeHtml(doc.info.description)} Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${doc.openapi}).
Authenticate with <code>Authorization: Bearer &lt;API key&gt;</code>.</p>
${sections.join('\n')}
</body></html>`;
}
