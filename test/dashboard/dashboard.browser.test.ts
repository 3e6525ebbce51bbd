import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import Telnyx from 'telnyx';
import { createTenant, type TestGateway } from '../support/gateway.ts';
import { FINAL_STATUSES, startPipelineGateway } from '../support/pipeline-gateway.ts';
import { waitFor } from '../support/wait-for.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

/**
 * The dashboard in Debian's Chromium (playwright-core): sign in, live list, a message's page with
 * every status and webhook attempt, resend, compose with an uploaded image, tenant isolation, and no
 * console errors or requests to anywhere but the gateway. SCREENSHOTS_DIR=docs/screenshots also
 * saves the main pages.
 */

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = process.env.SCREENSHOTS_DIR;
// A 2×2 PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGNk+M/AwMDAxMDAwMDAAAAhBgIBZ6uWVgAAAABJRU5ErkJggg==',
  'base64',
);

let gw: TestGateway;
let receiver: WebhookReceiver;
let context: BrowserContext;
let page: Page;
let userDataDir: string;
const consoleErrors: string[] = [];
const foreignRequests: string[] = [];

before(async () => {
  gw = await startPipelineGateway();
  receiver = await startWebhookReceiver({ keepRequests: true, keepAliveTimeoutMs: 1_000 });
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmsgw-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    viewport: { width: 1280, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
  context.on('request', (r) => {
    if (!r.url().startsWith(gw.url) && !r.url().startsWith('data:')) foreignRequests.push(r.url());
  });
});

after(async () => {
  await context?.close();
  await gw?.close();
  await receiver?.close();
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
});

async function shot(name: string) {
  if (!SCREENSHOTS) return;
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: false });
}

const sdk = () => new Telnyx({ apiKey: gw.apiKey, baseURL: `${gw.url}/v2`, maxRetries: 0 });

test('a wrong key cannot sign in', async () => {
  await page.goto(`${gw.url}/dashboard`);
  assert.match(page.url(), /\/dashboard\/login$/);
  await page.getByLabel('API key').fill('KEYnot-a-real-key');
  await page.getByLabel('API key').press('Enter');
  await page.getByRole('alert').filter({ hasText: 'not valid' }).waitFor();
  assert.match(page.url(), /\/dashboard\/login$/);
  const cookies = await context.cookies(`${gw.url}/dashboard`);
  assert.equal(cookies.length, 0);
});

test('sign in by keyboard; the session cookie is HttpOnly and SameSite=Strict', async () => {
  await page.goto(`${gw.url}/dashboard/login`);
  // The key field takes the focus on load (autofocus); on a busy machine that can come after
  // goto returns, and keys typed before it went nowhere (seen once in a full run).
  await page.waitForFunction(() =>
    [...((document.activeElement as HTMLInputElement | null)?.labels ?? [])].some((l) =>
      l.textContent?.includes('API key'),
    ),
  );
  await page.keyboard.type(gw.apiKey);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Messages' }).waitFor();
  const [cookie] = await context.cookies(`${gw.url}/dashboard`);
  assert.equal(cookie?.httpOnly, true);
  assert.equal(cookie?.sameSite, 'Strict');
});

let groupId = '';
let otherMessageId = '';

test('a send through the SDK appears in the list live, and its page shows every final status and attempt', async () => {
  await page.goto(`${gw.url}/dashboard`);
  await page.locator('#message-rows tr').first().waitFor();
  const to = ['+13125550100', '+13125550101', '+13125550102'];
  const { data } = await sdk().messages.sendGroupMms({
    from: gw.numbers[0]!,
    to,
    text: 'Seen live in the dashboard',
    webhook_url: receiver.url,
  });
  groupId = data!.id!;
  const row = page.locator(`tr[data-id="${groupId}"]`);
  await row.waitFor({ timeout: 10_000 }); // no reload: pushed over SSE
  await row.locator('.s-delivered').waitFor({ timeout: 15_000 }); // status change pushed too
  await shot('messages');

  await row.getByRole('link').click();
  await page.getByRole('heading', { name: /^Message / }).waitFor();
  // Every recipient final, every event settled: 2 events per recipient that was sent, 1 for a send failure.
  await waitFor(
    async () => {
      await page.reload();
      const statuses = await page.locator('.recipient h3 .status').allTextContents();
      const events = await page.locator('.event').count();
      const settled = await page.locator('.event h3 .status').allTextContents();
      const final =
        statuses.length === 3 && statuses.every((s) => FINAL_STATUSES.has(s.replaceAll(' ', '_')));
      return final && events === 5 && settled.every((s) => s === 'delivered') ? true : null;
    },
    { timeoutMs: 20_000, description: 'final statuses and delivered events on the page' },
  );
  assert.deepEqual(await page.locator('.recipient h3 .status').allTextContents(), [
    'delivered',
    'delivery failed',
    'sending failed',
  ]);
  for (const event of await page.locator('.event').all()) {
    const attempts = event.locator('tr.attempt');
    assert.equal(await attempts.count(), 1);
    const text = (await attempts.first().textContent()) ?? '';
    assert.ok(text.includes(receiver.url), 'attempt URL shown');
    assert.match(text, /200/);
    assert.match(text, /\d+ ms/);
    assert.match((await attempts.first().locator('pre').textContent()) ?? '', /telnyx-signature-ed25519: /);
  }
  await page.getByText('40001').first().waitFor(); // the send failure's error code
  await shot('message');
});

test('resend creates a new attempt of the same event, received by the webhook receiver', async () => {
  await page.goto(`${gw.url}/dashboard/messages/${groupId}`);
  const event = page.locator('.event').first();
  const eventId = (await event.getAttribute('data-event'))!;
  const before = receiver.events.get(eventId)?.copies ?? 0;
  assert.equal(before, 1);
  await event.getByRole('button', { name: 'Resend event' }).click();
  await page.getByRole('status').filter({ hasText: 'new delivery attempt' }).waitFor();
  await waitFor(() => ((receiver.events.get(eventId)?.copies ?? 0) >= 2 ? true : null), {
    description: 'the resent event at the receiver',
  });
  await waitFor(
    async () => {
      await page.reload();
      return (await page.locator(`.event[data-event="${eventId}"] tr.attempt`).count()) === 2 ? true : null;
    },
    { description: 'two attempts of the event on the page' },
  );
});

test('compose with an uploaded image sends a group MMS whose webhooks arrive', async () => {
  await page.goto(`${gw.url}/dashboard/compose`);
  await page
    .getByLabel('To (one number per line or comma-separated, up to 8)')
    .fill('+13125550100\n+13125557777');
  await page.getByLabel('Text', { exact: true }).fill('Composed with a picture');
  await page.getByLabel('Image (stored and served by the gateway)').setInputFiles({
    name: 'dot.png',
    mimeType: 'image/png',
    buffer: PNG,
  });
  await page.locator('#upload-state').filter({ hasText: 'Stored image/png' }).waitFor();
  const mediaUrl = await page.getByLabel('Media URL').inputValue();
  assert.match(mediaUrl, /\/media\/[0-9a-f]{64}$/);
  await page.getByLabel('Webhook URL (optional)').fill(receiver.url);
  await shot('compose');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByRole('heading', { name: /^Message / }).waitFor();
  const id = /\/dashboard\/messages\/([0-9a-f-]{36})$/.exec(page.url())![1]!;
  await waitFor(
    () => {
      const finals = [...receiver.events.values()].filter(
        (e) => e.groupMessageId === id && e.eventType === 'message.finalized',
      );
      return finals.length === 2 ? finals : null;
    },
    { timeoutMs: 20_000, description: 'message.finalized for both recipients of the composed MMS' },
  );
  await page.reload();
  await page.locator('.media img').waitFor();
  const media = (await page.locator('.media').textContent()) ?? '';
  assert.match(media, /image\/png/);
  assert.match(media, new RegExp(`${PNG.length} bytes`));
  await page.locator('.thread .bubble').first().waitFor();
  await shot('message-media');
});

test("another organization's message is not reachable by URL", async () => {
  const other = await createTenant(gw.store);
  const theirs = await new Telnyx({
    apiKey: other.apiKey,
    baseURL: `${gw.url}/v2`,
    maxRetries: 0,
  }).messages.sendGroupMms({
    from: other.numbers[0]!,
    to: ['+13125550100'],
    text: 'Private to the other organization',
  });
  otherMessageId = theirs.data!.id!;
  const res = await page.goto(`${gw.url}/dashboard/messages/${otherMessageId}`);
  assert.equal(res?.status(), 404);
  assert.equal(await page.getByText('Private to the other organization').count(), 0);
  await page.goto(`${gw.url}/dashboard?q=Private`);
  assert.equal(await page.locator(`tr[data-id="${theirs.data!.id}"]`).count(), 0);
});

test('profiles and numbers pages read and edit', async () => {
  await page.goto(`${gw.url}/dashboard/profiles`);
  const form = page.locator('form.profile').first();
  await form.getByLabel('Webhook URL').fill('https://hooks.example.com/dash');
  await form.getByRole('button', { name: /^Save / }).click();
  await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
  const profile = await gw.store.profiles.get(gw.organizationId, gw.profileId);
  assert.equal(profile?.data.webhook_url, 'https://hooks.example.com/dash');
  await shot('profiles');
  await page.goto(`${gw.url}/dashboard/numbers`);
  await page.getByRole('cell', { name: gw.numbers[0]!, exact: true }).waitFor();
  await shot('numbers');
});

test('a form post without the CSRF token, or a sign-in from another site, is refused', async () => {
  const res = await page.request.post(`${gw.url}/dashboard/compose`, {
    form: { from: gw.numbers[0]!, to: '+13125550100', text: 'forged' },
  });
  assert.equal(res.status(), 403);
  const login = await fetch(`${gw.url}/dashboard/login`, {
    method: 'POST',
    headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ api_key: gw.apiKey }),
    redirect: 'manual',
  });
  assert.equal(login.status, 403);
  assert.equal(login.headers.get('set-cookie'), null);
});

test('no console errors and no request left the gateway', () => {
  // Chromium logs the status of the two pages this test opens to be refused (the wrong key's 401 and
  // the other organization's 404); anything else is an error of the dashboard.
  const refused = /: Failed to load resource: the server responded with a status of (401|404) /;
  const expected = [`${gw.url}/dashboard/login`, `${gw.url}/dashboard/messages/${otherMessageId}`];
  assert.deepEqual(
    consoleErrors.filter((e) => !(refused.test(e) && expected.some((url) => e.startsWith(`${url}: `)))),
    [],
  );
  assert.deepEqual(foreignRequests, []);
});
