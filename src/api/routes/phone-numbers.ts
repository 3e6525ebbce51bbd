import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { apiError } from '../../errors/api-error.ts';
import { renderPhoneNumber } from '../../tenants/render-number.ts';
import { isNumberIdOrE164, isUuid } from '../../validation/ids.ts';
import { boundedString, isStorableText } from '../../validation/limits.ts';
import { codedMessage, parseWithTelnyxErrors } from '../../validation/telnyx-issues.ts';
import type { ApiContext } from '../context.ts';

export const MAX_TAGS = 50;
export const MAX_TAG_LENGTH = 128;

/** Telnyx `UpdatePhoneNumberMessagingSettingsRequest`: null or absent keeps, "" detaches. */
const updateMessagingSchema = z.object({
  messaging_profile_id: boundedString(64).nullish(),
  messaging_product: boundedString(64).nullish(),
  tags: z
    .array(
      boundedString(MAX_TAG_LENGTH, 1).refine(isStorableText, {
        error: codedMessage('10015', 'A tag may not contain NUL or a lone UTF-16 surrogate.'),
      }),
    )
    .max(MAX_TAGS, { error: codedMessage('10015', `At most ${MAX_TAGS} tags are allowed.`) })
    .nullish(),
});

export function phoneNumberRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { store } = ctx;

  const load = async (organizationId: string, idOrNumber: string) => {
    const number = isNumberIdOrE164(idOrNumber)
      ? await store.numbers.findByIdOrNumber(organizationId, idOrNumber)
      : undefined;
    if (!number) throw apiError('10005');
    return number;
  };

  app.get<{ Params: { id: string } }>('/v2/phone_numbers/:id/messaging', async (request) => {
    const number = await load(request.organizationId, request.params.id);
    return { data: renderPhoneNumber(number, ctx.countryOf(number.phone_number)) };
  });

  app.patch<{ Params: { id: string } }>('/v2/phone_numbers/:id/messaging', async (request) => {
    const number = await load(request.organizationId, request.params.id);
    const body = parseWithTelnyxErrors(updateMessagingSchema, request.body);
    let profileId = number.messaging_profile_id;
    if (body.messaging_profile_id === '') profileId = null;
    else if (body.messaging_profile_id) {
      const profile = isUuid(body.messaging_profile_id)
        ? await store.profiles.get(request.organizationId, body.messaging_profile_id)
        : undefined;
      if (!profile) {
        throw apiError('10005', { pointer: '/messaging_profile_id', detail: 'Messaging profile not found.' });
      }
      profileId = profile.id;
    }
    const tags = body.tags ?? number.tags;
    const updatedAt = new Date().toISOString();
    await store.numbers.update(
      request.organizationId,
      number.id,
      { messaging_profile_id: profileId, tags },
      updatedAt,
    );
    const updated = { ...number, messaging_profile_id: profileId, tags, updated_at: updatedAt };
    return { data: renderPhoneNumber(updated, ctx.countryOf(number.phone_number)) };
  });
}
