import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Telnyx from 'telnyx';
import { addNumber, startTestGateway, type TestGateway } from '../support/gateway.ts';

/** The official Telnyx Node SDK (7.24.0), pointed at the gateway, works unchanged. */

let gw: TestGateway;
let client: Telnyx;

before(async () => {
  gw = await startTestGateway();
  client = new Telnyx({ apiKey: gw.apiKey, baseURL: `${gw.url}/v2`, maxRetries: 0, timeout: 10_000 });
});

after(async () => {
  await gw?.close();
});

async function rawGet(path: string): Promise<unknown> {
  const res = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${gw.apiKey}` } });
  assert.equal(res.status, 200);
  return ((await res.json()) as { data: unknown }).data;
}

describe('messages', () => {
  test('sendGroupMms returns the full record; retrieve and retrieveGroupMessages return it', async () => {
    const to = ['+13125550100', '+13125550101', '+13125550102'];
    const sent = await client.messages.sendGroupMms({
      from: gw.numbers[0]!,
      to,
      text: 'Hello from the SDK',
      subject: 'SDK',
      media_urls: ['https://media.example.com/sdk.png'],
      webhook_url: 'https://hooks.example.com/sdk',
    });
    const data = sent.data!;
    assert.ok(data.id);
    assert.equal(data.record_type, 'message');
    assert.equal(data.type, 'MMS');
    assert.equal(data.direction, 'outbound');
    assert.equal(data.from?.phone_number, gw.numbers[0]);
    assert.deepEqual(
      data.to?.map((t) => [t.phone_number, t.status]),
      to.map((p) => [p, 'queued']),
    );
    assert.equal(data.text, 'Hello from the SDK');
    assert.equal(data.subject, 'SDK');
    assert.equal(data.media?.[0]?.url, 'https://media.example.com/sdk.png');
    assert.equal(data.webhook_url, 'https://hooks.example.com/sdk');
    assert.equal(data.messaging_profile_id, gw.profileId);
    assert.equal(data.encoding, 'GSM-7');
    assert.deepEqual(data, await rawGet(`/v2/messages/${data.id}`), 'the SDK sees what the API sent');

    const retrieved = await client.messages.retrieve(data.id!);
    assert.deepEqual(retrieved.data, data);

    const group = await client.messages.retrieveGroupMessages(data.id!);
    const records = group.data!;
    assert.equal(records.length, to.length);
    records.forEach((r, i) => {
      assert.notEqual(r.id, data.id);
      assert.deepEqual(
        r.to?.map((t) => t.phone_number),
        [to[i]],
      );
    });
    const one = await client.messages.retrieve(records[1]!.id!);
    assert.deepEqual(one.data, records[1]);
  });

  test('a 400 arrives as Telnyx.BadRequestError with the errors array', async () => {
    await assert.rejects(
      client.messages.sendGroupMms({ from: '3125550001', to: ['+13125550100'], text: 'x' }),
      (err: unknown) => {
        assert.ok(err instanceof Telnyx.BadRequestError, String(err));
        assert.ok(err instanceof Telnyx.APIError);
        assert.equal(err.status, 400);
        const body = err.error as { errors: Array<{ code: string; source?: { pointer?: string } }> };
        assert.equal(body.errors[0]?.code, '10016');
        assert.equal(body.errors[0]?.source?.pointer, '/from');
        assert.ok(err.headers?.get('x-request-id'));
        return true;
      },
    );
  });

  test('a bad destination list arrives with its pointer', async () => {
    await assert.rejects(
      client.messages.sendGroupMms({ from: gw.numbers[0]!, to: ['+13125550100', 'nope'], text: 'x' }),
      (err: unknown) => {
        assert.ok(err instanceof Telnyx.BadRequestError);
        const body = err.error as { errors: Array<{ code: string; source?: { pointer?: string } }> };
        assert.equal(body.errors[0]?.code, '40310');
        assert.equal(body.errors[0]?.source?.pointer, '/to/1');
        return true;
      },
    );
  });

  test('an unknown message is Telnyx.NotFoundError; a bad key is Telnyx.AuthenticationError', async () => {
    await assert.rejects(client.messages.retrieve('00000000-0000-4000-8000-000000000000'), (err: unknown) => {
      assert.ok(err instanceof Telnyx.NotFoundError);
      assert.equal(err.status, 404);
      assert.equal((err.error as { errors: Array<{ code: string }> }).errors[0]?.code, '10005');
      return true;
    });
    const stranger = new Telnyx({ apiKey: 'KEYnot-a-real-key', baseURL: `${gw.url}/v2`, maxRetries: 0 });
    await assert.rejects(
      stranger.messages.retrieve('00000000-0000-4000-8000-000000000000'),
      (err: unknown) => {
        assert.ok(err instanceof Telnyx.AuthenticationError);
        assert.equal(err.status, 401);
        assert.equal((err.error as { errors: Array<{ code: string }> }).errors[0]?.code, '10009');
        return true;
      },
    );
  });
});

describe('messaging profiles and numbers', () => {
  test('messagingProfiles.create / retrieve / update / list (auto-paginating)', async () => {
    const created = await client.messagingProfiles.create({
      name: 'SDK profile',
      whitelisted_destinations: ['US'],
      webhook_url: 'https://hooks.example.com/profile',
    });
    const profile = created.data!;
    assert.ok(profile.id);
    assert.equal(profile.name, 'SDK profile');
    assert.deepEqual(profile.whitelisted_destinations, ['US']);
    assert.equal(profile.enabled, true);

    const retrieved = await client.messagingProfiles.retrieve(profile.id!);
    assert.deepEqual(retrieved.data, profile);

    const updated = await client.messagingProfiles.update(profile.id!, { name: 'SDK profile (renamed)' });
    assert.equal(updated.data?.name, 'SDK profile (renamed)');

    for (let i = 0; i < 4; i++) {
      await client.messagingProfiles.create({ name: `SDK extra ${i}`, whitelisted_destinations: ['*'] });
    }
    // Small pages make the SDK follow meta.total_pages across several requests.
    const ids: string[] = [];
    for await (const p of client.messagingProfiles.list({ 'page[size]': 2 })) ids.push(p.id!);
    const all = (await rawGet('/v2/messaging_profiles?page[size]=250')) as Array<{ id: string }>;
    assert.equal(all.length, 6);
    assert.deepEqual(
      ids,
      all.map((p) => p.id),
    );
    assert.ok(ids.includes(profile.id!));

    const first = await client.messagingProfiles.list({ 'page[size]': 2 });
    assert.equal(first.data.length, 2);
    assert.equal(first.meta.total_pages, 3);
    assert.equal((first.meta as { total_results?: number }).total_results, 6);
    assert.ok(first.hasNextPage());
  });

  test('phoneNumbers.messaging.update attaches and detaches; listPhoneNumbers lists', async () => {
    const profile = (
      await client.messagingProfiles.create({ name: 'SDK numbers', whitelisted_destinations: ['*'] })
    ).data!;
    const number = await addNumber(gw.store, gw.organizationId, null);

    const attached = await client.phoneNumbers.messaging.update(number.id, {
      messaging_profile_id: profile.id!,
    });
    assert.equal(attached.data?.messaging_profile_id, profile.id);
    assert.equal(attached.data?.phone_number, number.phone_number);

    const listed: string[] = [];
    for await (const n of client.messagingProfiles.listPhoneNumbers(profile.id!))
      listed.push(n.phone_number!);
    assert.deepEqual(listed, [number.phone_number]);

    const retrieved = await client.phoneNumbers.messaging.retrieve(number.phone_number);
    assert.equal(retrieved.data?.id, number.id);

    const detached = await client.phoneNumbers.messaging.update(number.id, { messaging_profile_id: '' });
    assert.equal(detached.data?.messaging_profile_id, null);
    const after: string[] = [];
    for await (const n of client.messagingProfiles.listPhoneNumbers(profile.id!)) after.push(n.phone_number!);
    assert.deepEqual(after, []);
  });

  test('a profile validation error is a BadRequestError with the pointer', async () => {
    await assert.rejects(
      client.messagingProfiles.create({ name: 'bad', whitelisted_destinations: ['usa'] }),
      (err: unknown) => {
        assert.ok(err instanceof Telnyx.BadRequestError);
        const body = err.error as { errors: Array<{ source?: { pointer?: string } }> };
        assert.equal(body.errors[0]?.source?.pointer, '/whitelisted_destinations/0');
        return true;
      },
    );
  });
});
