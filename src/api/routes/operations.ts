import type { FastifyInstance } from 'fastify';
import { httpLatency, METRICS_CONTENT_TYPE, scrape } from '../../metrics/metrics.ts';
import type { ApiContext } from '../context.ts';

const READY_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** What an operator's Prometheus and orchestrator read: /metrics, /livez, /readyz (no API key). */
export function operationsRoutes(
  app: FastifyInstance,
  ctx: Pick<ApiContext, 'store' | 'workersRunning'>,
): void {
  app.addHook('onResponse', (request, reply, done) => {
    httpLatency.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_code: reply.statusCode,
      },
      reply.elapsedTime / 1000,
    );
    done();
  });

  app.get('/metrics', async (_request, reply) => {
    reply.type(METRICS_CONTENT_TYPE);
    return scrape(ctx.store);
  });

  app.get('/livez', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const checks: Record<string, string> = {};
    try {
      checks.migrations = (await withTimeout(ctx.store.operations.migrated(), READY_TIMEOUT_MS))
        ? 'ok'
        : 'pending';
      checks.database = 'ok';
    } catch (err) {
      checks.database = `unreachable: ${err instanceof Error ? err.message : String(err)}`;
    }
    const workers = ctx.workersRunning();
    if (workers !== null) checks.workers = workers ? 'ok' : 'stopped';
    const ready = Object.values(checks).every((v) => v === 'ok');
    reply.code(ready ? 200 : 503);
    return { status: ready ? 'ready' : 'not ready', checks };
  });
}
