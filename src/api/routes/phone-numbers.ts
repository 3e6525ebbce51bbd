import type { FastifyInstance } from 'fastify';
import { apiError } from '../../errors/api-error.ts';
import { updateMessagingSchema } from '../../tenants/number-schema.ts';
import { renderPhoneNumber } from '../../tenants/render-number.ts';
import { isNumberIdOrE164, isUuid } from '../../validation/ids.ts';
import { parseWithTelnyxErrors } from '../../validation/telnyx-issues.ts';
import type { ApiContext } from '../context.ts';
import { pageMeta, readPage } from '../pagination.ts';

export function phoneNumberRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { store } = ctx;

  const load = async (organizationId: string, idOrNumber: string) => {
    const number = isNumberIdOrE164(idOrNumber)
      ? await store.numbers.findByIdOrNumber(organizationId, idOrNumber)
      : undefined;
    if (!number) throw apiError('10005');
    return number;
  };

  app.get('/v2/phone_numbers/messaging', async (request) => {
    const page = readPage(request.query);
    const { items, total } = await store.numbers.listForOrganization(request.organizationId, page);
    return {
      data: items.map((n) => renderPhoneNumber(n, ctx.countryOf(n.phone_number))),
      meta: pageMeta(page, total),
    };
  });

  app.get<{ Params: { id: string } }>('/v2/phone_numbers/:id/messaging', async (request) => {
    const number = await load(request.organizationId, request.params.id);
    return { data: renderPhoneNumber(number, ctx.countryOf(number.phone_number)) };
  });

  // Read, merge and write in one transaction with the number locked (and the profile it is
  // attached to kept from being deleted meanwhile): concurrent PATCHes of different fields both land.
  app.patch<{ Params: { id: string } }>('/v2/phone_numbers/:id/messaging', async (request) => {
    if (!isNumberIdOrE164(request.params.id)) throw apiError('10005');
    const updated = await store.transaction(async (tx) => {
      const number = await tx.numbers.findByIdOrNumber(request.organizationId, request.params.id, true);
      if (!number) throw apiError('10005');
      const body = parseWithTelnyxErrors(updateMessagingSchema, request.body);
      let profileId = number.messaging_profile_id;
      if (body.messaging_profile_id === '') profileId = null;
      else if (body.messaging_profile_id) {
        const profile = isUuid(body.messaging_profile_id)
          ? await tx.profiles.get(request.organizationId, body.messaging_profile_id, 'SHARE')
          : undefined;
        if (!profile) {
          throw apiError('10005', {
            pointer: '/messaging_profile_id',
            detail: 'Messaging profile not found.',
          });
        }
        profileId = profile.id;
      }
      const tags = body.tags ?? number.tags;
      const updatedAt = new Date().toISOString();
      await tx.numbers.update(
        request.organizationId,
        number.id,
        { messaging_profile_id: profileId, tags },
        updatedAt,
      );
      return { ...number, messaging_profile_id: profileId, tags, updated_at: updatedAt };
    });
    return { data: renderPhoneNumber(updated, ctx.countryOf(updated.phone_number)) };
  });
}
