import pg from 'pg';

export interface Listener {
  /**
   * Calls `onNotify` with the payload of every NOTIFY on `channel` ('' after a reconnect: anything
   * may have been missed); resolves once LISTEN is in effect.
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

interface Channel {
  subscribers: Set<(payload: string) => void>;
  ready: Promise<void>;
}

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;

/**
 * LISTENs on one dedicated connection: a pooled one would carry its LISTENs off to other borrowers.
 * If that connection drops it reconnects with backoff, LISTENs again and then wakes every subscriber
 * once, because whatever was notified while it was down is lost.
 */
export function createListener(config: pg.ClientConfig): Listener {
  const channels = new Map<string, Channel>();
  let client: pg.Client | undefined;
  let connecting: Promise<pg.Client> | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryMs = RETRY_MIN_MS;
  let closed = false;

  const listenSql = (channel: string) => `LISTEN ${pg.escapeIdentifier(channel)}`;

  // Deferred so a subscriber that throws cannot break the connection's message handling.
  const wake = (channel: string, payload = '') => {
    for (const subscriber of channels.get(channel)?.subscribers ?? [])
      queueMicrotask(() => subscriber(payload));
  };

  const lost = (c: pg.Client) => {
    if (c !== client) return;
    client = undefined;
    c.end().catch(() => {});
    if (channels.size > 0) scheduleReconnect();
  };

  const open = async (): Promise<pg.Client> => {
    const c = new pg.Client(config);
    c.on('notification', (msg) => wake(msg.channel, msg.payload ?? ''));
    c.on('error', () => lost(c));
    c.on('end', () => lost(c));
    try {
      await c.connect();
      for (const channel of channels.keys()) await c.query(listenSql(channel));
      if (closed) throw new Error('listener closed');
    } catch (err) {
      await c.end().catch(() => {});
      throw err;
    }
    client = c;
    retryMs = RETRY_MIN_MS;
    return c;
  };

  const connect = (): Promise<pg.Client> => {
    if (client) return Promise.resolve(client);
    connecting ??= open().finally(() => {
      connecting = undefined;
    });
    return connecting;
  };

  function scheduleReconnect(): void {
    if (retryTimer || closed) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connect().then(
        () => {
          for (const channel of channels.keys()) wake(channel);
        },
        () => {
          retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
          scheduleReconnect();
        },
      );
    }, retryMs);
  }

  return {
    async listen(channel, onNotify) {
      if (closed) throw new Error('listener closed');
      const subscriber = (payload: string) => onNotify(payload);
      let entry = channels.get(channel);
      if (!entry) {
        const ready = connect().then((c) => c.query(listenSql(channel)).then(() => undefined));
        entry = { subscribers: new Set(), ready };
        channels.set(channel, entry);
        ready.catch(() => {
          if (channels.get(channel)?.ready === ready) channels.delete(channel);
        });
      }
      entry.subscribers.add(subscriber);
      await entry.ready;

      let subscribed = true;
      return async () => {
        if (!subscribed) return;
        subscribed = false;
        const current = channels.get(channel);
        if (!current?.subscribers.delete(subscriber) || current.subscribers.size > 0) return;
        channels.delete(channel);
        await client?.query(`UNLISTEN ${pg.escapeIdentifier(channel)}`).catch(() => {});
      };
    },

    async close() {
      closed = true;
      clearTimeout(retryTimer);
      channels.clear();
      const c = client ?? (await connecting?.catch(() => undefined));
      client = undefined;
      await c?.end();
    },
  };
}
