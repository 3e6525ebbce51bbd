import type { FastifyInstance } from 'fastify';
import { apiError } from '../../errors/api-error.ts';
import type { MediaStore } from '../../media/media-store.ts';
import { sniffContentType } from '../../media/sniff.ts';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Where the gateway serves a stored media file: content-addressed, so the URL names the exact bytes. */
export const mediaPath = (sha256: string): string => `/media/${sha256}`;

/**
 * Stored media (inbound MMS parts, uploads, media relayed to an upstream), served without an API key
 * as carriers' media links are: the address is the SHA-256 of the bytes, so it can only be known by
 * whoever already has them or was given the link.
 */
export function mediaRoutes(app: FastifyInstance, media: MediaStore): void {
  app.get<{ Params: { sha256: string } }>('/media/:sha256', async (request, reply) => {
    const { sha256 } = request.params;
    if (!SHA256_HEX.test(sha256) || !(await media.has(sha256))) throw apiError('10005');
    const bytes = await media.read(sha256);
    return reply
      .header('content-type', sniffContentType(bytes) ?? 'application/octet-stream')
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('x-content-type-options', 'nosniff')
      .send(bytes);
  });
}
