import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { apiError } from '../../errors/api-error.ts';
import { defaultProfileData, normaliseProfileData } from '../../profiles/defaults.ts';
import { createProfileSchema, updateProfileSchema } from '../../profiles/profile-schema.ts';
import { renderProfile } from '../../profiles/render.ts';
import type { ProfileData } from '../../store/records.ts';
import { renderPhoneNumber } from '../../tenants/render-number.ts';
import { isUuid } from '../../validation/ids.ts';
import { parseWithTelnyxErrors } from '../../validation/telnyx-issues.ts';
import type { ApiContext } from '../context.ts';
import { pageMeta, readPage } from '../pagination.ts';

type IdParams = { Params: { id: string } };

export function profileRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { store } = ctx;

  const load = async (organizationId: string, id: string) => {
    const profile = isUuid(id) ? await store.profiles.get(organizationId, id) : undefined;
    if (!profile) throw apiError('10005');
    return profile;
  };

  app.post('/v2/messaging_profiles', async (request) => {
    const body = parseWithTelnyxErrors(createProfileSchema, request.body);
    const now = new Date().toISOString();
    const data = normaliseProfileData({
      ...defaultProfileData(body.name, body.whitelisted_destinations),
      ...body,
    } as ProfileData);
    const profile = {
      id: randomUUID(),
      organization_id: request.organizationId,
      data,
      created_at: now,
      updated_at: now,
    };
    await store.profiles.create(profile);
    return { data: renderProfile(profile) };
  });

  app.get('/v2/messaging_profiles', async (request) => {
    const page = readPage(request.query);
    const { items, total } = await store.profiles.list(request.organizationId, page);
    return { data: items.map(renderProfile), meta: pageMeta(page, total) };
  });

  app.get<IdParams>('/v2/messaging_profiles/:id', async (request) => ({
    data: renderProfile(await load(request.organizationId, request.params.id)),
  }));

  // Read, merge and write in one transaction with the row locked: two concurrent PATCHes of
  // different fields both land.
  app.patch<IdParams>('/v2/messaging_profiles/:id', async (request) => {
    if (!isUuid(request.params.id)) throw apiError('10005');
    const updated = await store.transaction(async (tx) => {
      const profile = await tx.profiles.get(request.organizationId, request.params.id, 'UPDATE');
      if (!profile) throw apiError('10005');
      const { v1_secret: _ignored, ...changes } = parseWithTelnyxErrors(updateProfileSchema, request.body);
      const data = normaliseProfileData({ ...profile.data, ...changes } as ProfileData);
      const updatedAt = new Date().toISOString();
      await tx.profiles.update(request.organizationId, profile.id, data, updatedAt);
      return { ...profile, data, updated_at: updatedAt };
    });
    return { data: renderProfile(updated) };
  });

  app.delete<IdParams>('/v2/messaging_profiles/:id', async (request) => {
    const profile = await load(request.organizationId, request.params.id);
    await store.transaction((tx) => tx.profiles.delete(request.organizationId, profile.id));
    return { data: renderProfile(profile) };
  });

  app.get<IdParams>('/v2/messaging_profiles/:id/phone_numbers', async (request) => {
    const profile = await load(request.organizationId, request.params.id);
    const page = readPage(request.query);
    const { items, total } = await store.numbers.listByProfile(request.organizationId, profile.id, page);
    return {
      data: items.map((n) => renderPhoneNumber(n, ctx.countryOf(n.phone_number))),
      meta: pageMeta(page, total),
    };
  });
}
