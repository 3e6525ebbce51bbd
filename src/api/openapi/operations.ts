import { z } from 'zod';
import { chaosRuleSchema } from '../../chaos/rules.ts';
import { groupMmsRequestSchema } from '../../messages/group-mms-schema.ts';
import {
  messageListQuerySchema,
  messageListResponseSchema,
  messagePageResponseSchema,
  messageResponseSchema,
} from '../../messages/message-schema.ts';
import {
  autorespConfigBodySchema,
  autorespConfigListQuerySchema,
  autorespConfigListResponseSchema,
  autorespConfigResponseSchema,
  optOutListQuerySchema,
  optOutListResponseSchema,
} from '../../optouts/optout-schema.ts';
import {
  createProfileSchema,
  messagingProfileSchema,
  updateProfileSchema,
} from '../../profiles/profile-schema.ts';
import { phoneNumberSchema, updateMessagingSchema } from '../../tenants/number-schema.ts';
import {
  webhookDeliveryListQuerySchema,
  webhookDeliveryListSchema,
  webhookDeliveryResponseSchema,
} from '../../webhooks/delivery-schema.ts';
import { pageQuerySchema } from '../query.ts';
import { paginationMetaSchema } from '../schemas/common.ts';

/**
 * One entry per route: the zod schemas that validate its input and type its output. The OpenAPI
 * document (`/openapi.json`) is generated from this list, so it cannot drift from the code.
 */
export interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI path under `/v2`, `{param}` style. */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  /** Not in Telnyx's API: documented as an extension of it. */
  extension?: boolean;
  /** Unauthenticated routes (no bearer key). */
  public?: boolean;
  params?: string[];
  query?: z.ZodObject;
  body?: z.ZodType;
  response: z.ZodType;
}

const profileResponse = z.object({ data: messagingProfileSchema });
const profileList = z.object({ data: z.array(messagingProfileSchema), meta: paginationMetaSchema });
const numberResponse = z.object({ data: phoneNumberSchema });
const numberList = z.object({ data: z.array(phoneNumberSchema), meta: paginationMetaSchema });
const pageOnly = z.object({ page: pageQuerySchema });
const chaosRuleView = z.record(z.string(), z.unknown());
const chaosRuleList = z.object({ data: z.array(chaosRuleView) });
const chaosFaultView = z.record(z.string(), z.unknown());
const chaosDeleted = z.object({ data: z.object({ deleted: z.number().int() }) });

export const OPERATIONS: Operation[] = [
  {
    method: 'post',
    path: '/messages/group_mms',
    operationId: 'SendGroupMms',
    summary: 'Send a group MMS message',
    tag: 'Messages',
    body: groupMmsRequestSchema,
    response: messageResponseSchema,
  },
  {
    method: 'get',
    path: '/messages',
    operationId: 'ListMessages',
    summary: 'Extension: list messages, newest first (keyset pagination)',
    tag: 'Messages',
    extension: true,
    query: messageListQuerySchema,
    response: messagePageResponseSchema,
  },
  {
    method: 'get',
    path: '/messages/{id}',
    operationId: 'GetMessage',
    summary: 'Retrieve a message (group id or a recipient id)',
    tag: 'Messages',
    params: ['id'],
    response: messageResponseSchema,
  },
  {
    method: 'get',
    path: '/messages/group/{message_id}',
    operationId: 'RetrieveGroupMessages',
    summary: "Retrieve a group MMS's per-recipient messages",
    tag: 'Messages',
    params: ['message_id'],
    response: messageListResponseSchema,
  },
  {
    method: 'get',
    path: '/messages/{id}/webhook_deliveries',
    operationId: 'ListMessageWebhookDeliveries',
    summary: "Extension: a message's webhook events with every attempt",
    tag: 'Messages',
    extension: true,
    params: ['id'],
    response: z.object({ data: z.array(z.record(z.string(), z.unknown())) }),
  },
  {
    method: 'get',
    path: '/messaging_profiles',
    operationId: 'ListMessagingProfiles',
    summary: 'List messaging profiles',
    tag: 'Messaging profiles',
    query: pageOnly,
    response: profileList,
  },
  {
    method: 'post',
    path: '/messaging_profiles',
    operationId: 'CreateMessagingProfile',
    summary: 'Create a messaging profile',
    tag: 'Messaging profiles',
    body: createProfileSchema,
    response: profileResponse,
  },
  {
    method: 'get',
    path: '/messaging_profiles/{id}',
    operationId: 'RetrieveMessagingProfile',
    summary: 'Retrieve a messaging profile',
    tag: 'Messaging profiles',
    params: ['id'],
    response: profileResponse,
  },
  {
    method: 'patch',
    path: '/messaging_profiles/{id}',
    operationId: 'UpdateMessagingProfile',
    summary: 'Update a messaging profile',
    tag: 'Messaging profiles',
    params: ['id'],
    body: updateProfileSchema,
    response: profileResponse,
  },
  {
    method: 'delete',
    path: '/messaging_profiles/{id}',
    operationId: 'DeleteMessagingProfile',
    summary: 'Delete a messaging profile',
    tag: 'Messaging profiles',
    params: ['id'],
    response: profileResponse,
  },
  {
    method: 'get',
    path: '/messaging_profiles/{id}/phone_numbers',
    operationId: 'ListProfilePhoneNumbers',
    summary: 'List the phone numbers of a messaging profile',
    tag: 'Messaging profiles',
    params: ['id'],
    query: pageOnly,
    response: numberList,
  },
  {
    method: 'get',
    path: '/phone_numbers/messaging',
    operationId: 'ListPhoneNumbersWithMessagingSettings',
    summary: 'List phone numbers with messaging settings',
    tag: 'Phone numbers',
    query: pageOnly,
    response: numberList,
  },
  {
    method: 'get',
    path: '/phone_numbers/{id}/messaging',
    operationId: 'GetPhoneNumberMessagingSettings',
    summary: "Retrieve a phone number's messaging settings",
    tag: 'Phone numbers',
    params: ['id'],
    response: numberResponse,
  },
  {
    method: 'patch',
    path: '/phone_numbers/{id}/messaging',
    operationId: 'UpdatePhoneNumberMessagingSettings',
    summary: "Update a phone number's messaging settings",
    tag: 'Phone numbers',
    params: ['id'],
    body: updateMessagingSchema,
    response: numberResponse,
  },
  {
    method: 'get',
    path: '/webhook_deliveries',
    operationId: 'GetWebhookDeliveries',
    summary: 'List webhook deliveries',
    tag: 'Webhooks',
    query: webhookDeliveryListQuerySchema,
    response: webhookDeliveryListSchema,
  },
  {
    method: 'get',
    path: '/webhook_deliveries/{id}',
    operationId: 'GetWebhookDelivery',
    summary: 'Find webhook_delivery details by ID',
    tag: 'Webhooks',
    params: ['id'],
    response: webhookDeliveryResponseSchema,
  },
  {
    method: 'get',
    path: '/messaging_optouts',
    operationId: 'ListOptOuts',
    summary: 'List opt-outs',
    tag: 'Opt-Out Management',
    query: optOutListQuerySchema,
    response: optOutListResponseSchema,
  },
  {
    method: 'get',
    path: '/messaging_profiles/{profile_id}/autoresp_configs',
    operationId: 'GetAutorespConfigs',
    summary: 'List Auto-Response Settings',
    tag: 'Opt-Out Management',
    params: ['profile_id'],
    query: autorespConfigListQuerySchema,
    response: autorespConfigListResponseSchema,
  },
  {
    method: 'post',
    path: '/messaging_profiles/{profile_id}/autoresp_configs',
    operationId: 'CreateAutorespConfig',
    summary: 'Create auto-response setting',
    tag: 'Opt-Out Management',
    params: ['profile_id'],
    body: autorespConfigBodySchema,
    response: autorespConfigResponseSchema,
  },
  {
    method: 'get',
    path: '/messaging_profiles/{profile_id}/autoresp_configs/{autoresp_cfg_id}',
    operationId: 'GetAutorespConfig',
    summary: 'Get Auto-Response Setting',
    tag: 'Opt-Out Management',
    params: ['profile_id', 'autoresp_cfg_id'],
    response: autorespConfigResponseSchema,
  },
  {
    method: 'put',
    path: '/messaging_profiles/{profile_id}/autoresp_configs/{autoresp_cfg_id}',
    operationId: 'UpdateAutoRespConfig',
    summary: 'Update Auto-Response Setting',
    tag: 'Opt-Out Management',
    params: ['profile_id', 'autoresp_cfg_id'],
    body: autorespConfigBodySchema,
    response: autorespConfigResponseSchema,
  },
  {
    method: 'delete',
    path: '/messaging_profiles/{profile_id}/autoresp_configs/{autoresp_cfg_id}',
    operationId: 'DeleteAutorespConfig',
    summary: 'Delete Auto-Response Setting',
    tag: 'Opt-Out Management',
    params: ['profile_id', 'autoresp_cfg_id'],
    response: z.string().describe('"OK"'),
  },
  {
    method: 'get',
    path: '/public_key',
    operationId: 'GetPublicKey',
    summary: 'Extension: the Ed25519 public key webhooks are signed with (base64)',
    tag: 'Webhooks',
    extension: true,
    public: true,
    response: z.object({ data: z.object({ public_key: z.string() }) }),
  },
  // Chaos mode (README "Chaos mode"): faults injected on purpose into simulator-carried messages.
  {
    method: 'get',
    path: '/simulator/chaos/rules',
    operationId: 'ListChaosRules',
    summary: "Extension: chaos mode's fault rules (the organization's and the operator's)",
    tag: 'Simulator',
    extension: true,
    response: chaosRuleList,
  },
  {
    method: 'post',
    path: '/simulator/chaos/rules',
    operationId: 'CreateChaosRules',
    summary: 'Extension: add a chaos fault rule (or an array of them)',
    tag: 'Simulator',
    extension: true,
    body: z.union([chaosRuleSchema, z.array(chaosRuleSchema)]),
    response: z.object({ data: z.union([chaosRuleView, z.array(chaosRuleView)]) }),
  },
  {
    method: 'delete',
    path: '/simulator/chaos/rules',
    operationId: 'ClearChaosRules',
    summary: "Extension: remove the organization's chaos rules",
    tag: 'Simulator',
    extension: true,
    response: chaosDeleted,
  },
  {
    method: 'delete',
    path: '/simulator/chaos/rules/{id}',
    operationId: 'DeleteChaosRule',
    summary: "Extension: remove one of the organization's chaos rules",
    tag: 'Simulator',
    extension: true,
    params: ['id'],
    response: chaosDeleted,
  },
  {
    method: 'get',
    path: '/simulator/chaos/faults',
    operationId: 'ListChaosFaults',
    summary: 'Extension: the faults chaos mode injected (of one message with message_id)',
    tag: 'Simulator',
    extension: true,
    query: z.object({ message_id: z.string().optional() }),
    response: z.object({ data: z.array(chaosFaultView) }),
  },
];
