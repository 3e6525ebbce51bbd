export type OutboundMessageEventType = 'message.sent' | 'message.finalized';

export interface EnvelopeInput {
  /** Event id: keep it the same on every retry so receivers can deduplicate. */
  id: string;
  eventType: OutboundMessageEventType;
  occurredAt: Date;
  /** The outbound message as the API renders it (`OutboundMessagePayload`). */
  payload: object;
  /** 1-based delivery attempt number. */
  attempt: number;
  /** The URL this attempt is posted to. */
  deliveredTo: string;
}

/** Raw JSON body of a Telnyx `deliveryUpdate` webhook (`OutboundMessageEvent`). */
export function buildEnvelope(input: EnvelopeInput): string {
  if (!Number.isSafeInteger(input.attempt) || input.attempt < 1) {
    throw new RangeError(`attempt must be a positive integer, got ${input.attempt}`);
  }
  return JSON.stringify({
    data: {
      event_type: input.eventType,
      id: input.id,
      occurred_at: input.occurredAt.toISOString(),
      payload: input.payload,
      record_type: 'event',
    },
    meta: {
      attempt: input.attempt,
      delivered_to: input.deliveredTo,
    },
  });
}
