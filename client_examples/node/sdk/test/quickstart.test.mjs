// examples/quickstart.mjs (the README's Node quickstart) run as a user would,
// against its own staminad.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';

import { basePhotos, startStaminad } from './staminad.mjs';

const require = createRequire(import.meta.url);
const { StaminaClient } = require('../dist/index.js');
const QUICKSTART = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples', 'quickstart.mjs');

let server;
before(async () => (server = await startStaminad({ tenant: 'quickstart' })));
after(async () => server?.stop());

test('the quickstart trains a concept and writes its sample', async () => {
  // Photos for the concept: samples of the base model, through another model.
  const client = new StaminaClient({ address: server.address, apiKey: server.key });
  await client.createModel('photos');
  const photos = await basePhotos(client, 'photos', { seed: 3 });
  client.close();
  const dir = join(server.dir, 'photos');
  mkdirSync(dir);
  photos.forEach((p, i) => writeFileSync(join(dir, `${i}.png`), p.png));

  const { stdout } = await promisify(execFile)(process.execPath, [QUICKSTART, dir], {
    cwd: server.dir,
    env: { ...process.env, STAMINA_ADDRESS: server.address, STAMINA_API_KEY: server.key, STEPS: '5' },
  });
  assert.match(stdout, /^upload \d+\/\d+ bytes$/m);
  // Every phase change is reported (docs/api.md, WatchJob); steps as they come.
  assert.match(stdout, /^JOB_STATE_RUNNING JOB_PHASE_TRAINING \d+\/\d+$/m);
  assert.match(stdout, /^JOB_STATE_SUCCEEDED JOB_PHASE_UNSPECIFIED 5\/5$/m);
  assert.match(stdout, /^models\/family\/versions\/1: anna.png$/m);
  assert.deepEqual(readFileSync(join(server.dir, 'anna.png')).subarray(1, 4), Buffer.from('PNG'));
});
