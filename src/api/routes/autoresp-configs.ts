import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { apiError } from '../../errors/api-error.ts';
import { normaliseKeyword } from '../../optouts/keywords.ts';
import {
  type AutorespConfigBody,
  autorespConfigBodySchema,
  autorespConfigListQuerySchema,
} from '../../optouts/optout-schema.ts';
import { renderAutorespConfig } from '../../optouts/render.ts';
import type { Repos } from '../../store/store.ts';
import { isUuid } from '../../validation/ids.ts';
import { parseWithTelnyxErrors } from '../../validation/telnyx-issues.ts';
import type { ApiContext } from '../context.ts';
import { nestQuery } from '../query.ts';

/** Enough for every keyword of every country a profile sends to; a bound on what one profile stores. */
export const MAX_AUTORESP_CONFIGS_PER_PROFILE = 100;

type ProfileParams = { Params: { profile_id: string } };
type ConfigParams = { Params: { profile_id: string; autoresp_cfg_id: string } };

const storedTime = (value: string | undefined) =>
  value === undefined ? undefined : new Date(value).toISOString();

/** Upper case, inner whitespace as one space, each keyword once. */
const fields = (body: AutorespConfigBody) => ({
  op: body.op,
  keywords: [...new Set(body.keywords.map(normaliseKeyword))],
  country_code: body.country_code.toUpperCase(),
  resp_text: body.resp_text ?? null,
});

/** Telnyx's auto-response settings of a messaging profile, for the organization's own profiles only. */
export function autorespConfigRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { store } = ctx;
  const base = '/v2/messaging_profiles/:profile_id/autoresp_configs';

  /** The profile, locked in `tx` when given; 404 when it is not the organization's. */
  const profileOf = async (db: Repos, organizationId: string, id: string, lock?: 'UPDATE') => {
    const profile = isUuid(id) ? await db.profiles.get(organizationId, id, lock) : undefined;
    if (!profile) throw apiError('10005');
    return profile;
  };

  app.get<ProfileParams>(base, async (request) => {
    const profile = await profileOf(store, request.organizationId, request.params.profile_id);
    const query = parseWithTelnyxErrors(autorespConfigListQuerySchema, nestQuery(request.query));
    const items = await store.autorespConfigs.listForProfile(request.organizationId, profile.id, {
      countryCode: query.country_code?.toUpperCase(),
      createdGte: storedTime(query.created_at?.gte),
      createdLte: storedTime(query.created_at?.lte),
      updatedGte: storedTime(query.updated_at?.gte),
      updatedLte: storedTime(query.updated_at?.lte),
    });
    // At most MAX_AUTORESP_CONFIGS_PER_PROFILE: always one page.
    return {
      data: items.map(renderAutorespConfig),
      meta: {
        page_number: 1,
        page_size: MAX_AUTORESP_CONFIGS_PER_PROFILE,
        total_pages: 1,
        total_results: items.length,
      },
    };
  });

  app.post<ProfileParams>(base, async (request) => {
    const body = fields(parseWithTelnyxErrors(autorespConfigBodySchema, request.body));
    const created = await store.transaction(async (tx) => {
      // Locked: concurrent creations for one profile are counted one after the other.
      const profile = await profileOf(tx, request.organizationId, request.params.profile_id, 'UPDATE');
      if ((await tx.autorespConfigs.countForProfile(profile.id)) >= MAX_AUTORESP_CONFIGS_PER_PROFILE) {
        throw apiError('10027', {
          detail: `A messaging profile can have at most ${MAX_AUTORESP_CONFIGS_PER_PROFILE} auto-response settings.`,
        });
      }
      const now = new Date().toISOString();
      const config = {
        id: randomUUID(),
        organization_id: request.organizationId,
        messaging_profile_id: profile.id,
        ...body,
        created_at: now,
        updated_at: now,
      };
      await tx.autorespConfigs.insert(config);
      return config;
    });
    return { data: renderAutorespConfig(created) };
  });

  const load = async (organizationId: string, params: ConfigParams['Params']) => {
    const profile = await profileOf(store, organizationId, params.profile_id);
    const config = isUuid(params.autoresp_cfg_id)
      ? await store.autorespConfigs.get(organizationId, profile.id, params.autoresp_cfg_id)
      : undefined;
    if (!config) throw apiError('10005');
    return config;
  };

  app.get<ConfigParams>(`${base}/:autoresp_cfg_id`, async (request) => ({
    data: renderAutorespConfig(await load(request.organizationId, request.params)),
  }));

  app.put<ConfigParams>(`${base}/:autoresp_cfg_id`, async (request) => {
    const existing = await load(request.organizationId, request.params);
    const body = fields(parseWithTelnyxErrors(autorespConfigBodySchema, request.body));
    const updatedAt = new Date().toISOString();
    const updated = { ...existing, ...body, updated_at: updatedAt };
    if (!(await store.autorespConfigs.update(updated, updatedAt))) throw apiError('10005');
    return { data: renderAutorespConfig(updated) };
  });

  app.delete<ConfigParams>(`${base}/:autoresp_cfg_id`, async (request, reply) => {
    const config = await load(request.organizationId, request.params);
    if (
      !(await store.autorespConfigs.delete(request.organizationId, config.messaging_profile_id, config.id))
    ) {
      throw apiError('10005');
    }
    // Telnyx answers the JSON string "OK".
    return reply.type('application/json; charset=utf-8').send(JSON.stringify('OK'));
  });
}
