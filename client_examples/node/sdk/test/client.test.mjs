// The SDK against a real staminad over loopback: the whole flow a web
// backend runs (create, upload, train, watch, sample, lineage, rollback,
// export), and the errors it must turn into typed exceptions.
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { basePhotos, startStaminad } from './staminad.mjs';

const require = createRequire(import.meta.url);
const sdk = require('../dist/index.js');
const { StaminaClient } = sdk;

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('StaminaClient against staminad', () => {
  let server;
  let client;
  let caps;

  before(async () => {
    server = await startStaminad();
    client = new StaminaClient({ address: server.address, apiKey: server.key });
    caps = await client.capabilities();
  });

  after(async () => {
    client?.close();
    await server?.stop();
  });

  test('capabilities name the base model and the limits', () => {
    assert.equal(caps.baseModels[0].name, 'baseModels/stamina-tiny-v1');
    assert.ok(caps.limits.minImagesPerConcept >= 1);
    assert.ok(caps.limits.maxSampleSteps >= caps.limits.minSampleSteps);
  });

  test('createModel is idempotent with the same requestId', async () => {
    const first = await client.createModel('idem', { displayName: 'Idem' }, { requestId: 'r-1' });
    const again = await client.createModel('idem', { displayName: 'Idem' }, { requestId: 'r-1' });
    assert.equal(again.name, first.name);
    assert.equal(again.createTime.seconds, first.createTime.seconds);
    await assert.rejects(client.createModel('idem', {}), (error) => {
      assert.ok(error instanceof sdk.AlreadyExistsError);
      assert.equal(error.codeName, 'ALREADY_EXISTS');
      return true;
    });
  });

  test('errors are typed and name the field', async () => {
    await assert.rejects(client.getModel('missing'), sdk.NotFoundError);
    await assert.rejects(
      client.sample({ model: 'idem', prompt: 'a photo', steps: caps.limits.maxSampleSteps + 1 }),
      (error) => {
        assert.ok(error instanceof sdk.InvalidArgumentError);
        assert.equal(error.code, 3);
        assert.equal(error.field, 'steps');
        assert.match(error.details, /out of range/);
        return true;
      },
    );
    const stranger = new StaminaClient({ address: server.address, apiKey: 'stk_wrong' });
    await assert.rejects(stranger.listModels()[Symbol.asyncIterator]().next(), sdk.UnauthenticatedError);
    stranger.close();
  });

  test('an aborted call rejects with CancelledError', async () => {
    const controller = new AbortController();
    const pending = client.sample(
      { model: 'idem', prompt: 'a photo', steps: caps.limits.maxSampleSteps, imageCount: 4 },
      { signal: controller.signal },
    );
    controller.abort();
    await assert.rejects(pending, sdk.CancelledError);
  });

  test('upload, train, watch, sample, lineage, rollback, export', async () => {
    const model = await client.createModel('family', { displayName: 'Family' });
    assert.equal(model.name, 'models/family');
    assert.equal(model.headVersion, '', 'a new model starts at the base');

    // Real PNGs for the concept: samples of the base model itself.
    const photos = await basePhotos(client, 'family', { seed: 11 });
    assert.equal(photos.length, caps.limits.minImagesPerConcept);

    const concept = await client.createConcept('family', 'anna', {
      token: '<anna>',
      displayName: 'Anna',
      captionTemplates: ['a photo of {}'],
    });
    assert.equal(concept.state, 'CONCEPT_STATE_DRAFT');

    const progress = [];
    const uploaded = await client.uploadImages(
      concept.name,
      photos.map((p, i) => ({ filename: `anna-${i}.png`, data: p.png })),
      { onProgress: (p) => progress.push(p) },
    );
    assert.equal(Number(uploaded.imageCount), photos.length);
    assert.ok(uploaded.results.every((r) => r.outcome === 'OUTCOME_CREATED'));
    const total = photos.reduce((sum, p) => sum + p.png.length, 0);
    assert.equal(progress.at(-1).sentBytes, total);
    assert.equal(progress.at(-1).totalBytes, total);
    for (let i = 1; i < progress.length; ++i) {
      assert.ok(progress[i].sentBytes > progress[i - 1].sentBytes);
    }
    // Uploading the same bytes again is safe: the server reports duplicates.
    const again = await client.uploadImages(concept.name, [
      { filename: 'anna-0.png', data: photos[0].png },
    ]);
    assert.equal(again.results[0].outcome, 'OUTCOME_DUPLICATE');

    const job = await client.train(concept.name, {
      steps: Math.max(caps.limits.minTrainingSteps, 5),
    });
    assert.equal(job.state, 'JOB_STATE_QUEUED');
    const updates = [];
    const done = await client.wait(job.name, {
      minIntervalMs: 50,
      onUpdate: (u) => updates.push(u),
    });
    assert.equal(done.state, 'JOB_STATE_SUCCEEDED');
    assert.ok(done.resultVersion.startsWith('models/family/versions/'));
    assert.ok(updates.length >= 2, `updates: ${updates.map((u) => u.state)}`);
    assert.equal(updates.at(-1).state, 'JOB_STATE_SUCCEEDED');
    assert.equal((await client.getModel('family')).headVersion, done.resultVersion);

    const sampleProgress = [];
    const request = { model: 'family', prompt: 'a photo of <anna>', seed: 7, steps: 4 };
    const [image] = await client.sample(request, { onProgress: (p) => sampleProgress.push(p) });
    assert.deepEqual(image.png.subarray(0, 8), PNG_SIGNATURE);
    assert.equal(image.seed, '7');
    assert.equal(image.version, done.resultVersion);
    assert.ok(sampleProgress.some((p) => p.phase === 'SAMPLE_PHASE_DENOISING'));
    const [same] = await client.sample(request);
    assert.ok(same.png.equals(image.png), 'same seed, same bytes');

    // A second concept, in its own token, then a rollback to the first version.
    const rex = await client.createConcept('family', 'rex', { token: '<rex>' });
    await client.uploadImages(
      rex.name,
      photos.map((p, i) => ({ filename: `rex-${i}.png`, data: Buffer.from(p.png) })),
    );
    const second = await client.wait(
      (await client.train(rex.name, { steps: Math.max(caps.limits.minTrainingSteps, 5) })).name,
    );
    const lineage = await client.lineage('family');
    assert.deepEqual(
      lineage.entries.map((e) => [e.concept, e.token]),
      [
        ['models/family/concepts/anna', '<anna>'],
        ['models/family/concepts/rex', '<rex>'],
      ],
    );
    const versions = [];
    for await (const v of client.listVersions('family')) versions.push(v.name);
    assert.deepEqual(versions.sort(), [done.resultVersion, second.resultVersion].sort());

    const dir = mkdtempSync(join(tmpdir(), 'stamina-export-'));
    const exported = await client.exportModel('family', dir, { format: 'EXPORT_FORMAT_ADAPTERS' });
    assert.equal(exported.version, second.resultVersion);
    assert.ok(exported.files.length >= 1);
    for (const file of exported.files) {
      assert.equal(statSync(join(dir, file.path)).size, file.bytes);
    }

    // A fork at version 1 draws what version 1 drew.
    const fork = await client.forkModel(done.resultVersion, 'family-v1');
    assert.equal(fork.forkedFrom, done.resultVersion);
    assert.equal(fork.headVersion, 'models/family-v1/versions/1');
    const [fromFork] = await client.sample({ ...request, model: 'family-v1' });
    assert.ok(fromFork.png.equals(image.png), 'the fork samples the same bytes');

    const rolledBack = await client.rollback('family', done.resultVersion);
    assert.equal(rolledBack.headVersion, done.resultVersion);
    assert.equal((await client.lineage('family')).entries.length, 1);
    // The rolled-back head draws what version 1 drew.
    const [fromV1] = await client.sample(request);
    assert.ok(fromV1.png.equals(image.png));
  });

  test('eraseConcept removes a concept and replays the later one', async () => {
    await client.createModel('erasing', {});
    const photos = await basePhotos(client, 'erasing', { seed: 5 });
    const steps = Math.max(caps.limits.minTrainingSteps, 5);
    const versions = [];
    for (const id of ['anna', 'rex']) {
      const concept = await client.createConcept('erasing', id, { token: `<${id}>` });
      await client.uploadImages(
        concept.name,
        photos.map((p, i) => ({ filename: `${id}-${i}.png`, data: p.png })),
      );
      versions.push((await client.wait((await client.train(concept.name, { steps })).name)).resultVersion);
    }
    const { erasure, erased } = await client.eraseConcept('models/erasing/concepts/anna');
    assert.equal(erasure.token, '<anna>');
    assert.equal(erasure.state, 'ERASURE_STATE_REPLAYING');
    assert.deepEqual(erasure.erasedVersions.map((v) => v.version), versions);
    assert.deepEqual(erased.concepts, ['models/erasing/concepts/anna']);
    assert.match(erasure.requestedBy, /^apiKeys\//);
    assert.equal(erasure.replayJobs.length, 1);
    assert.equal(erasure.proof.prompt, 'a photo of <anna>');
    assert.ok(erasure.proof.driftBefore > 0);
    const replayed = await client.wait(erasure.replayJobs[0]);
    assert.equal(replayed.replayOf, versions[1]);
    const lineage = await client.lineage('erasing');
    assert.deepEqual(lineage.entries.map((e) => [e.token, e.replayOf]), [['<rex>', versions[1]]]);
    assert.equal(lineage.erasures.length, 1);
    assert.equal((await client.getErasure(erasure.name)).state, 'ERASURE_STATE_SUCCEEDED');
    const all = [];
    for await (const e of client.listErasures('models/erasing')) all.push(e.name);
    assert.deepEqual(all, [erasure.name]);
    // The head against itself draws the same bytes (drift 0).
    const same = await client.compareVersions('erasing', replayed.resultVersion, { steps: 2 });
    assert.deepEqual(same.comparisons.map((c) => [c.token, c.drift]), [['<rex>', 0]]);
    assert.equal(same.comparisons[0].imagesA.length, 2);
    // An erased version is gone, and the refusal says why.
    await assert.rejects(
      client.sample({ model: 'erasing', version: versions[0], prompt: 'a photo of <rex>', steps: 2 }),
      (error) => {
        assert.ok(error instanceof sdk.NotFoundError);
        assert.match(error.message, /was erased by models\/erasing\/erasures\//);
        return true;
      },
    );
  });

  test('a job that fails rejects wait() with JobFailedError', async () => {
    await client.createModel('failing', {});
    const photos = await basePhotos(client, 'failing', { prompt: 'a tower' });
    const concept = await client.createConcept('failing', 'tower', { token: '<tower>' });
    await client.uploadImages(
      concept.name,
      photos.map((p, i) => ({ filename: `t${i}.png`, data: p.png })),
    );
    // A word the tokenizer does not know as one token fails the job at start.
    const job = await client.train(concept.name, {
      steps: Math.max(caps.limits.minTrainingSteps, 5),
      tokenInitializer: 'zzqxv',
    });
    await assert.rejects(client.wait(job.name), (error) => {
      assert.ok(error instanceof sdk.JobFailedError);
      assert.equal(error.job.state, 'JOB_STATE_FAILED');
      assert.match(error.message, /token_initializer|zzqxv/);
      return true;
    });
  });
});
