// The example web app in a real browser (Debian's chromium driven by
// playwright-core) against a real staminad: upload photos through the page,
// watch the progress bar reach SUCCEEDED, draw a sample, roll back.
//
// CHROMIUM names the browser (default /usr/bin/chromium); SCREENSHOT, when
// set, is where the page's screenshot after training and sampling goes (the
// README's client_examples/node/webapp/screenshot.png was made that way).
// The shipped base model (models/stamina-tiny-v1) is used when present, and
// the photos are renders of one synthetic face (bazel-bin/core/world/render)
// when that tool is built, else samples of the base model.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';

import { chromium } from 'playwright-core';
import sdk from '@stamina/client';

import { startStaminad } from '../../sdk/test/staminad.mjs';
import { createApp } from '../app.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const BASE_MODEL = join(ROOT, 'models', 'stamina-tiny-v1');
const RENDER = join(ROOT, 'bazel-bin', 'core', 'world', 'render');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const TRAINING_STEPS = 150;

let server;
let stamina;
let web;
let browser;

before(async () => {
  const flags = existsSync(join(BASE_MODEL, 'config.json')) || existsSync(BASE_MODEL)
    ? [`--base_model_dir=${BASE_MODEL}`]
    : [];
  server = await startStaminad({ tenant: 'webapp', flags });
  stamina = new sdk.StaminaClient({ address: server.address, apiKey: server.key });
  web = createApp({ stamina, modelId: 'webapp' }).listen(0, '127.0.0.1');
  await once(web, 'listening');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu'],
  });
});

after(async () => {
  await browser?.close();
  web?.close();
  stamina?.close();
  await server?.stop();
});

async function photoFiles(kind) {
  const dir = mkdtempSync(join(tmpdir(), `stamina-${kind}-`));
  const caps = await stamina.capabilities();
  const count = Math.max(caps.limits.minImagesPerConcept, 4);
  if (existsSync(RENDER)) {
    execFileSync(RENDER, [
      `--kind=${kind}`,
      '--seed=1000000',
      '--count=1',
      `--renders=${count}`,
      `--out_dir=${dir}`,
    ]);
  } else {
    await stamina.createModel(`photos-${kind}`, {});
    const base = caps.baseModels[0];
    const images = await stamina.sample({
      model: `photos-${kind}`,
      prompt: `a photo of a ${kind}`,
      imageCount: count,
      width: base.resolution,
      height: base.resolution,
      seed: 5,
    });
    images.forEach((image, i) => writeFileSync(join(dir, `photo-${i}.png`), image.png));
  }
  return readdirSync(dir, { recursive: true })
    .filter((name) => name.endsWith('.png'))
    .sort()
    .map((name) => join(dir, name));
}

// The waits are generous: a 150-step job takes ~30 s on an idle 2-core
// machine, several minutes beside benchmarks; this checks the flow, not speed.
test('upload through the page, train to SUCCEEDED, sample, roll back', { timeout: 900_000 }, async () => {
  const page = await browser.newPage({ viewport: { width: 1180, height: 720 } });
  const failures = [];
  page.on('pageerror', (error) => failures.push(error.message));
  const { port } = web.address();
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForFunction(() => document.getElementById('model').textContent.includes('models/webapp'));
  // The bar's label as the SSE relay updates it.
  const labels = [];
  await page.exposeFunction('recordLabel', (text) => labels.push(text));
  await page.evaluate(() => {
    new MutationObserver(() => window.recordLabel(document.getElementById('job-label').textContent))
      .observe(document.getElementById('job-label'), { childList: true, characterData: true, subtree: true });
  });

  // Teaches one concept through the form, as a person would.
  const teach = async (id, kind, version) => {
    const files = await photoFiles(kind);
    await page.fill('input[name=id]', id);
    await page.fill('input[name=token]', `<${id}>`);
    await page.fill('input[name=steps]', String(TRAINING_STEPS));
    await page.setInputFiles('#photos', files);
    await page.waitForFunction((n) => document.querySelectorAll('#thumbs img').length === n, files.length);
    labels.length = 0;
    await page.click('#train');
    await page.waitForFunction(
      (v) => document.getElementById('job-label').dataset.state === 'SUCCEEDED'
        && document.getElementById('model').textContent.endsWith(v),
      `versions/${version}`,
      { timeout: 600_000 },
    );
    assert.match(await page.textContent('#upload-status'), new RegExp(`${files.length} image\\(s\\) in models/webapp/concepts/${id}`));
    assert.match(await page.textContent('#job-label'), new RegExp(`SUCCEEDED · step ${TRAINING_STEPS}/${TRAINING_STEPS}`));
    assert.ok(labels.some((l) => /^(QUEUED|RUNNING)/.test(l)), `labels: ${labels.join(' | ')}`);
    assert.equal(await page.getAttribute('#bar-fill', 'style'), 'width: 100%;');
  };
  await teach('anna', 'face', 1);
  await teach('tower', 'landmark', 2);
  assert.equal(await page.textContent('#lineage'), '<anna> (v1)<tower> (v2)');

  await page.fill('#prompt', 'a photo of <anna>');
  await page.click('#generate');
  await page.waitForFunction(
    () => {
      const images = [...document.querySelectorAll('#gallery img')];
      return images.length === 2 && images.every((img) => img.complete && img.naturalWidth > 0);
    },
    null,
    { timeout: 120_000 },
  );
  assert.match(await page.textContent('#gallery'), /seed 7 · v2/);
  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });

  // Roll back to version 1: the head moves, the lineage loses <tower>.
  await page.click('#versions li:first-child button');
  await page.waitForFunction(() => document.getElementById('model').textContent.endsWith('versions/1'));
  assert.equal(await page.textContent('#lineage'), '<anna> (v1)');

  // A bad request comes back with the field named, shown on the page.
  await page.fill('input[name=id]', 'Bad Id!');
  await page.evaluate(() => document.getElementById('concept-form').noValidate = true);
  await page.click('#train');
  await page.waitForFunction(() => /^concept_id: /.test(document.getElementById("upload-status").textContent)
    && !document.getElementById('upload-status').textContent.startsWith('uploading'));

  assert.deepEqual(failures, []);
  await page.close();
});
