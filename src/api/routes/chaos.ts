import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ChaosEngine } from '../../chaos/chaos-engine.ts';
import { renderChaosFault } from '../../chaos/render-faults.ts';
import { ChaosRuleError, type ChaosRuleInput, parseChaosRule, renderChaosRule } from '../../chaos/rules.ts';
import { apiError } from '../../errors/api-error.ts';
import type { Store } from '../../store/store.ts';
import { UUID } from '../uuid.ts';

export interface ChaosRouteDeps {
  store: Store;
  chaos: ChaosEngine;
}

const GROUP_MMS = '/v2/messages/group_mms';

/**
 * Chaos mode, a sandbox extension under /v2/simulator/chaos: the organization's fault rules (it also
 * sees the operator's, which it cannot remove), the faults injected, and the `api.reject` gate that
 * answers POST /v2/messages/group_mms with 429 or 503 before anything else is done. Register it
 * before the message routes, in the authenticated scope.
 */
export function chaosRoutes(app: FastifyInstance, deps: ChaosRouteDeps): void {
  const { store, chaos } = deps;

  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method !== 'POST' || request.routeOptions.url !== GROUP_MMS) return;
    await rejectByChaos(deps, request, reply);
  });

  app.get('/v2/simulator/chaos/rules', async (request) => {
    const rules = await store.chaos.listRules(request.organizationId);
    return { data: rules.map(renderChaosRule) };
  });

  app.post('/v2/simulator/chaos/rules', async (request) => {
    const body = request.body as unknown;
    const many = Array.isArray(body) ? body : (body as { rules?: unknown } | null)?.rules;
    const inputs: ChaosRuleInput[] = [];
    for (const raw of Array.isArray(many) ? many : [body]) {
      try {
        inputs.push(parseChaosRule(raw));
      } catch (err) {
        if (err instanceof ChaosRuleError) throw apiError('10015', { detail: err.message });
        throw err;
      }
    }
    for (const input of inputs) {
      const profile = input.match.profile;
      if (profile !== undefined && !(await chaos.eligible(profile))) {
        throw apiError('10027', {
          detail: `Chaos is refused for profile ${profile}: its connector is not the simulator.`,
          pointer: '/profile',
        });
      }
    }
    const added = [];
    for (const input of inputs) {
      added.push(await chaos.addRule(input, { organizationId: request.organizationId, source: 'api' }));
    }
    const data = added.map(renderChaosRule);
    return { data: Array.isArray(many) ? data : data[0] };
  });

  app.delete('/v2/simulator/chaos/rules', async (request) => {
    const deleted = await store.chaos.clearRules(request.organizationId);
    chaos.invalidate();
    return { data: { deleted } };
  });

  app.delete<{ Params: { id: string } }>('/v2/simulator/chaos/rules/:id', async (request) => {
    if (!(await store.chaos.deleteRule(request.params.id, request.organizationId))) throw apiError('10005');
    chaos.invalidate();
    return { data: { deleted: 1 } };
  });

  app.get<{ Querystring: { message_id?: string } }>('/v2/simulator/chaos/faults', async (request) => {
    const messageId = request.query.message_id;
    if (messageId !== undefined && !UUID.test(messageId)) {
      throw apiError('10015', { parameter: 'message_id', detail: 'message_id must be a message id.' });
    }
    const faults = await store.chaos.listFaults(request.organizationId, messageId);
    return { data: faults.map(renderChaosFault) };
  });
}

/** api.reject: 429 (with Retry-After) or 503, before the request is looked at any further. */
async function rejectByChaos(deps: ChaosRouteDeps, request: FastifyRequest, reply: FastifyReply) {
  const { store, chaos } = deps;
  const organizationId = request.organizationId;
  if (!(await chaos.anyRules('api.', organizationId))) return;
  const body = (request.body ?? {}) as { from?: unknown; to?: unknown };
  const from = typeof body.from === 'string' ? body.from : '';
  const to = Array.isArray(body.to) ? body.to.filter((t): t is string => typeof t === 'string') : [];
  const [number] = from ? await store.numbers.findByNumbers([from]) : [];
  const profileId = number?.organization_id === organizationId ? number.messaging_profile_id : null;
  const rules = await chaos.rulesFor('api.', { organizationId, from, to, profileId });
  // A number routed to a real carrier is never touched (nor one that is not ours).
  if (rules.length === 0 || !(await chaos.eligible(profileId))) return;
  const position = await store.chaos.countOutboundMessages(organizationId);
  const rejected = await store.chaos.countFaults(organizationId, 'api.reject');
  for (const rule of rules) {
    if (!(await chaos.fires(rule, `${from}|api|${position}|${rejected}`))) continue;
    const status = rule.params.status === 429 ? 429 : 503;
    await chaos.record({ rule, organizationId, kind: rule.kind, messageId: null, detail: { status, from } });
    reply.header('x-chaos-rule', rule.id);
    const detail = `Injected by chaos rule ${rule.id}.`;
    if (status === 429) {
      reply.header('retry-after', '1');
      throw apiError('10011', { detail });
    }
    throw apiError('10037', { detail });
  }
}
