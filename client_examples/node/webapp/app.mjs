// A web-app backend on @stamina/client that a product can start from: the
// browser talks REST and Server-Sent Events to this server, which holds the
// Stamina API key and talks gRPC to staminad. One model per deployment here
// (STAMINA_MODEL); a real product maps its own users to models the same way.
//
//   GET  /api/state                      limits, the model, its concepts and lineage
//   POST /api/concepts                   multipart: id, token, photos[] -> concept + upload
//   POST /api/concepts/:id/train         -> job
//   GET  /api/jobs/:id/events            SSE: one "job" event per update, then "end"
//   POST /api/samples                    {prompt, count, seed} -> [{url, seed, version}]
//   GET  /api/images/:id.png             a sampled image (kept in memory, newest 256)
//   POST /api/rollback                   {version} -> the model
import express from 'express';
import multer from 'multer';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import sdk from '@stamina/client';

const here = dirname(fileURLToPath(import.meta.url));
const MAX_KEPT_IMAGES = 256;

// gRPC status -> HTTP status, for errors the browser should see.
const HTTP_STATUS = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  FAILED_PRECONDITION: 409,
  RESOURCE_EXHAUSTED: 429,
  UNAUTHENTICATED: 502, // our key is wrong: the server's fault, not the browser's
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

/** The job as the page shows it: state, phase, step, loss, ETA. */
export function jobView(job) {
  const p = job.progress ?? {};
  const eta = p.eta ? Number(p.eta.seconds) + p.eta.nanos / 1e9 : null;
  return {
    name: job.name,
    state: job.state.replace('JOB_STATE_', ''),
    phase: (p.phase ?? '').replace('JOB_PHASE_', ''),
    step: p.step ?? 0,
    totalSteps: p.totalSteps ?? 0,
    loss: p.loss ?? 0,
    fraction: job.state === 'JOB_STATE_SUCCEEDED' ? 1 : (p.fractionDone ?? 0),
    etaSeconds: job.state === 'JOB_STATE_RUNNING' ? eta : null,
    queuePosition: p.queuePosition ?? 0,
    resultVersion: job.resultVersion,
    error: job.error?.message ?? '',
  };
}

/**
 * The Express app. `stamina` is a StaminaClient; `modelId` the model this
 * deployment trains (created on first use).
 */
export function createApp({ stamina, modelId }) {
  const app = express();
  const model = `models/${modelId}`;
  const images = new Map(); // id -> {png, seed, version}
  const upload = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: 20 << 20, files: 64 },
  });
  let ensured;
  const ensureModel = () =>
    (ensured ??= stamina.getModel(model).catch((error) => {
      ensured = undefined;
      if (!(error instanceof sdk.NotFoundError)) throw error;
      return stamina.createModel(modelId, { displayName: 'Web app demo' }, { requestId: modelId });
    }));

  app.use(express.json({ limit: '16kb' }));
  app.use(express.static(join(here, 'public')));

  app.get('/api/state', async (req, res) => {
    await ensureModel();
    const [caps, current] = await Promise.all([stamina.capabilities(), stamina.getModel(model)]);
    const concepts = [];
    for await (const c of stamina.listConcepts(model)) concepts.push(c);
    const lineage = current.headVersion ? await stamina.lineage(model) : { entries: [] };
    const versions = [];
    for await (const v of stamina.listVersions(model)) versions.push(v);
    res.json({
      model: current.name,
      head: current.headVersion,
      limits: {
        minImages: caps.limits.minImagesPerConcept,
        maxImages: caps.limits.maxImagesPerConcept,
        maxPromptLength: caps.limits.maxPromptLength,
      },
      concepts: concepts.map((c) => ({
        id: c.name.split('/').pop(),
        token: c.token,
        state: c.state.replace('CONCEPT_STATE_', ''),
        images: Number(c.imageCount),
      })),
      lineage: lineage.entries.map((e) => ({ version: e.version, token: e.token })),
      versions: versions
        .sort((a, b) => Number(a.name.split('/').pop()) - Number(b.name.split('/').pop()))
        .map((v) => ({ name: v.name, token: v.token, depth: Number(v.conceptCount) })),
    });
  });

  app.post('/api/concepts', upload.array('photos'), async (req, res) => {
    const { id, token } = req.body ?? {};
    if (!id || !token) return res.status(400).json({ error: 'id and token are required', field: !id ? 'id' : 'token' });
    await ensureModel();
    const concept = await stamina.createConcept(model, id, { token, captionTemplates: ['a photo of {}'] });
    const result = await stamina.uploadImages(
      concept.name,
      (req.files ?? []).map((f) => ({ filename: f.originalname, data: f.buffer })),
      { skipInvalid: true },
    );
    res.json({
      concept: concept.name,
      images: Number(result.imageCount),
      results: result.results.map((r) => ({
        filename: r.filename,
        outcome: r.outcome.replace('OUTCOME_', ''),
        reason: r.rejectionReason,
      })),
    });
  });

  app.post('/api/concepts/:id/train', async (req, res) => {
    const job = await stamina.train(`${model}/concepts/${req.params.id}`, {
      steps: Number(req.body?.steps) || 0,
    });
    res.json(jobView(job));
  });

  app.get('/api/jobs/:id/events', async (req, res) => {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    const controller = new AbortController();
    req.on('close', () => controller.abort());
    try {
      for await (const job of stamina.watch(`${model}/jobs/${req.params.id}`, {
        minIntervalMs: 200,
        signal: controller.signal,
      })) {
        res.write(`event: job\ndata: ${JSON.stringify(jobView(job))}\n\n`);
      }
      res.write('event: end\ndata: {}\n\n');
    } catch (error) {
      if (!controller.signal.aborted) {
        res.write(`event: failure\ndata: ${JSON.stringify({ error: error.message })}\n\n`);
      }
    }
    res.end();
  });

  app.post('/api/samples', async (req, res) => {
    const { prompt, count, seed } = req.body ?? {};
    const sampled = await stamina.sample({
      model,
      prompt: String(prompt ?? ''),
      imageCount: Math.min(Math.max(Number(count) || 1, 1), 4),
      seed: Number(seed) || 0,
    });
    res.json(
      sampled.map((image) => {
        const id = randomUUID();
        images.set(id, image);
        if (images.size > MAX_KEPT_IMAGES) images.delete(images.keys().next().value);
        return { url: `/api/images/${id}.png`, seed: image.seed, version: image.version };
      }),
    );
  });

  app.get('/api/images/:id.png', (req, res) => {
    const image = images.get(req.params.id);
    if (!image) return res.status(404).json({ error: 'no such image' });
    res.type('png').send(image.png);
  });

  app.post('/api/rollback', async (req, res) => {
    const updated = await stamina.rollback(model, String(req.body?.version ?? ''));
    res.json({ head: updated.headVersion });
  });

  // Typed SDK errors -> JSON with the HTTP status, the gRPC code and the field.
  app.use((error, req, res, next) => {
    if (res.headersSent) return next(error);
    if (error instanceof sdk.StaminaError) {
      return res
        .status(HTTP_STATUS[error.codeName] ?? 500)
        .json({ error: error.details, code: error.codeName, field: error.field ?? null });
    }
    if (error instanceof multer.MulterError) {
      return res.status(413).json({ error: error.message, field: error.field ?? null });
    }
    console.error(error);
    res.status(500).json({ error: 'internal error' });
  });
  return app;
}
