// Webhooks from the Node side: verifyWebhook on the Standard Webhooks
// example, and a real delivery from staminad to a receiver in this process.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';

import { basePhotos, startStaminad } from './staminad.mjs';

const require = createRequire(import.meta.url);
const sdk = require('../dist/index.js');

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const HEADERS = {
  'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  'webhook-timestamp': '1614265330',
  'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const BODY = '{"test": 2432232314}';

test('verifyWebhook accepts the specification example and refuses forgeries', () => {
  const now = { nowSeconds: 1614265330 + 5 };
  assert.deepEqual(sdk.verifyWebhook(SECRET, HEADERS, Buffer.from(BODY), now), { test: 2432232314 });
  assert.throws(() => sdk.verifyWebhook(SECRET, HEADERS, '{"test": 1}', now), /no signature/);
  assert.throws(
    () => sdk.verifyWebhook(SECRET, HEADERS, BODY, { nowSeconds: 1614265330 + 3600 }),
    sdk.WebhookVerificationError,
  );
  assert.throws(() => sdk.verifyWebhook(SECRET, {}, BODY, now), /missing header webhook-id/);
});

let server;
before(async () => {
  server = await startStaminad({
    tenant: 'hooks',
    flags: ['--webhook_allow_private_targets', '--webhook_initial_backoff_ms=200'],
  });
});
after(async () => server?.stop());

test('a job posts signed events to its webhook URL', async () => {
  const client = new sdk.StaminaClient({ address: server.address, apiKey: server.key });
  const secret = await client.webhookSecret();
  const events = [];
  let sawSucceeded;
  const succeeded = new Promise((resolve) => (sawSucceeded = resolve));
  const receiver = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      try {
        const event = sdk.verifyWebhook(secret, req.headers, Buffer.concat(chunks));
        events.push({ id: req.headers['webhook-id'], ...event });
        res.writeHead(204).end();
        if (event.type === 'job.succeeded') sawSucceeded();
      } catch (error) {
        res.writeHead(401).end(String(error));
      }
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  try {
    await client.createModel('hooked');
    const photos = await basePhotos(client, 'hooked', { seed: 4 });
    const concept = await client.createConcept('hooked', 'anna', { token: '<anna>' });
    await client.uploadImages(concept.name, photos.map((p, i) => ({ filename: `${i}.png`, data: p.png })));
    const url = `http://127.0.0.1:${receiver.address().port}/hook`;
    const job = await client.train(concept.name, { steps: 5 }, { webhookUrl: url });
    assert.equal(job.webhookUrl, url);
    const done = await client.wait(job.name);
    await succeeded;
    const last = events.find((e) => e.type === 'job.succeeded');
    assert.equal(last.data.job, job.name);
    assert.equal(last.data.result_version, done.resultVersion);
    assert.deepEqual(
      [...new Set(events.map((e) => e.type))].sort(),
      ['job.queued', 'job.running', 'job.succeeded'],
    );
    // Rotation: a new secret, and the old one no longer verifies new deliveries.
    const rotated = await client.rotateWebhookSecret();
    assert.notEqual(rotated, secret);
    assert.equal(await client.webhookSecret(), rotated);
  } finally {
    receiver.close();
    client.close();
  }
});
