// StaminaClient: the stamina.v1 API (docs/api.md) for Node backends.
//
// One client holds one gRPC channel; it is safe to share across concurrent
// requests. Every call sends the API key as `authorization: Bearer <key>`,
// has a deadline, and rejects with a typed StaminaError (errors.ts). Calls that
// are safe to repeat — reads, creates with an idempotency key (the client
// makes one when the caller does not), uploads (the server deduplicates by
// content), samples — are retried with exponential back-off and jitter on
// UNAVAILABLE, RESOURCE_EXHAUSTED and INTERNAL, and creates also on
// DEADLINE_EXCEEDED, as docs/api.md §8 advises.
import { randomUUID } from 'node:crypto';

import * as grpc from '@grpc/grpc-js';

import { fromGrpcError, JobFailedError, StaminaError } from './errors';
import { loadServices, Services } from './services';
import { ImageSource, streamImages, UploadProgress } from './upload';
import { writeExport, ExportedFile } from './export';
import type { Capabilities__Output } from './generated/stamina/v1/Capabilities';
import type { CompareVersionsResponse__Output } from './generated/stamina/v1/CompareVersionsResponse';
import type { Concept, Concept__Output } from './generated/stamina/v1/Concept';
import type { DeleteConceptResponse__Output } from './generated/stamina/v1/DeleteConceptResponse';
import type { DeleteModelResponse__Output } from './generated/stamina/v1/DeleteModelResponse';
import type { EraseConceptResponse__Output } from './generated/stamina/v1/EraseConceptResponse';
import type { Erasure__Output } from './generated/stamina/v1/Erasure';
import type { ListErasuresRequest } from './generated/stamina/v1/ListErasuresRequest';
import type { ListErasuresResponse__Output } from './generated/stamina/v1/ListErasuresResponse';
import type { ExportFormat } from './generated/stamina/v1/ExportFormat';
import type { GeneratedImage__Output } from './generated/stamina/v1/GeneratedImage';
import type { Image__Output } from './generated/stamina/v1/Image';
import type { Job__Output } from './generated/stamina/v1/Job';
import type { JobState } from './generated/stamina/v1/JobState';
import type { Lineage__Output } from './generated/stamina/v1/Lineage';
import type { ListModelsResponse__Output } from './generated/stamina/v1/ListModelsResponse';
import type { ListVersionsResponse__Output } from './generated/stamina/v1/ListVersionsResponse';
import type { ListConceptsResponse__Output } from './generated/stamina/v1/ListConceptsResponse';
import type { ListImagesResponse__Output } from './generated/stamina/v1/ListImagesResponse';
import type { ListJobsResponse__Output } from './generated/stamina/v1/ListJobsResponse';
import type { ListModelsRequest } from './generated/stamina/v1/ListModelsRequest';
import type { ListVersionsRequest } from './generated/stamina/v1/ListVersionsRequest';
import type { ListConceptsRequest } from './generated/stamina/v1/ListConceptsRequest';
import type { ListImagesRequest } from './generated/stamina/v1/ListImagesRequest';
import type { ListJobsRequest } from './generated/stamina/v1/ListJobsRequest';
import type { RotateWebhookSecretResponse__Output } from './generated/stamina/v1/RotateWebhookSecretResponse';
import type { WebhookSecret__Output } from './generated/stamina/v1/WebhookSecret';
import type { Model, Model__Output } from './generated/stamina/v1/Model';
import type { ModelVersion__Output } from './generated/stamina/v1/ModelVersion';
import type { SampleProgress__Output } from './generated/stamina/v1/SampleProgress';
import type { SampleRequest } from './generated/stamina/v1/SampleRequest';
import type { TrainingSettings } from './generated/stamina/v1/TrainingSettings';
import type { UploadImagesResponse__Output } from './generated/stamina/v1/UploadImagesResponse';

export interface RetryOptions {
  /** Attempts in all, the first included (1 = no retries). Default 4. */
  maxAttempts?: number;
  /** First back-off; doubled per attempt, with full jitter. Default 250 ms. */
  initialBackoffMs?: number;
  /** Longest back-off. Default 5000 ms. */
  maxBackoffMs?: number;
}

export interface ClientOptions {
  /** host:port of staminad's public listener. */
  address: string;
  /** The tenant's API key (stk_...). Keep it server-side. */
  apiKey: string;
  /**
   * TLS: true trusts the system's CAs; an object may give a CA bundle (PEM) and
   * the name the certificate carries. Leave it out only on loopback.
   */
  tls?: boolean | { ca?: Buffer | string; serverName?: string };
  /** Deadline of each unary call. Default 30 s. */
  timeoutMs?: number;
  retry?: RetryOptions;
}

export interface CallOptions {
  /** Overrides ClientOptions.timeoutMs for this call. */
  timeoutMs?: number;
  /** Aborts the call (it rejects with CancelledError). */
  signal?: AbortSignal;
}

export interface CreateOptions extends CallOptions {
  /** The idempotency key (docs/api.md §1.5); one is made when left out. */
  requestId?: string;
}

export interface SampleOptions extends CallOptions {
  onProgress?: (progress: SampleProgress__Output) => void;
}

export interface WatchOptions {
  /** Minimum time between progress-only updates (server default 500 ms). */
  minIntervalMs?: number;
  signal?: AbortSignal;
}

export interface WaitOptions extends WatchOptions {
  onUpdate?: (job: Job__Output) => void;
}

/** One generated image: PNG bytes and how it was made. */
export interface SampledImage {
  index: number;
  png: Buffer;
  width: number;
  height: number;
  /** The seed that made it, as a decimal string (int64). */
  seed: string;
  /** The model version that drew it. */
  version: string;
}

const TERMINAL: ReadonlySet<string> = new Set([
  'JOB_STATE_SUCCEEDED',
  'JOB_STATE_FAILED',
  'JOB_STATE_CANCELLED',
]);

type Unary<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: grpc.requestCallback<Res>,
) => grpc.ClientUnaryCall;

type RetryClass = 'none' | 'read' | 'create';

export class StaminaClient {
  private readonly services: Services;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly retry: Required<RetryOptions>;

  constructor(options: ClientOptions) {
    if (!options.address) throw new TypeError('address is required');
    if (!options.apiKey) throw new TypeError('apiKey is required');
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retry = {
      maxAttempts: Math.max(1, options.retry?.maxAttempts ?? 4),
      initialBackoffMs: options.retry?.initialBackoffMs ?? 250,
      maxBackoffMs: options.retry?.maxBackoffMs ?? 5_000,
    };
    let credentials = grpc.credentials.createInsecure();
    const channelOptions: grpc.ChannelOptions = {
      // Images and exports travel in chunks well under this.
      'grpc.max_receive_message_length': 64 << 20,
    };
    if (options.tls) {
      const tls = typeof options.tls === 'object' ? options.tls : {};
      const ca = typeof tls.ca === 'string' ? Buffer.from(tls.ca) : tls.ca;
      credentials = grpc.credentials.createSsl(ca ?? null);
      if (tls.serverName) channelOptions['grpc.ssl_target_name_override'] = tls.serverName;
    }
    this.services = loadServices(options.address, credentials, channelOptions);
  }

  /** Closes the channel; calls in flight fail with CANCELLED or UNAVAILABLE. */
  close(): void {
    for (const stub of Object.values(this.services)) stub.close();
  }

  // ---- Capabilities -------------------------------------------------------

  capabilities(options: CallOptions = {}): Promise<Capabilities__Output> {
    const s = this.services.sampler;
    return this.unary(s.GetCapabilities.bind(s), {}, 'read', options);
  }

  // ---- Models -------------------------------------------------------------

  /** Creates models/{id}; the base model defaults to the server's first. */
  async createModel(
    id: string,
    model: Model = {},
    options: CreateOptions = {},
  ): Promise<Model__Output> {
    const s = this.services.models;
    const requestId = options.requestId ?? randomUUID();
    if (!model.baseModel) {
      const caps = await this.capabilities(options);
      if (caps.baseModels.length === 0) {
        throw new StaminaError(grpc.status.FAILED_PRECONDITION, 'the server has no base model');
      }
      model = { ...model, baseModel: caps.baseModels[0].name };
    }
    return this.unary(
      s.CreateModel.bind(s),
      { model, modelId: id, requestId },
      'create',
      options,
    );
  }

  getModel(name: string, options: CallOptions = {}): Promise<Model__Output> {
    const s = this.services.models;
    return this.unary(s.GetModel.bind(s), { name: modelName(name) }, 'read', options);
  }

  listModels(options: CallOptions = {}): AsyncIterable<Model__Output> {
    const s = this.services.models;
    return this.pages((pageToken) =>
      this.unary<ListModelsRequest, ListModelsResponse__Output>(s.ListModels.bind(s), { pageToken }, 'read', options).then((r: ListModelsResponse__Output) => ({
        items: r.models,
        next: r.nextPageToken,
      })),
    );
  }

  deleteModel(name: string, options: CallOptions = {}): Promise<DeleteModelResponse__Output> {
    const s = this.services.models;
    return this.unary(s.DeleteModel.bind(s), { name: modelName(name) }, 'none', options);
  }

  listVersions(model: string, options: CallOptions = {}): AsyncIterable<ModelVersion__Output> {
    const s = this.services.models;
    return this.pages((pageToken) =>
      this.unary<ListVersionsRequest, ListVersionsResponse__Output>(
        s.ListVersions.bind(s),
        { parent: modelName(model), pageToken },
        'read',
        options,
      ).then((r: ListVersionsResponse__Output) => ({ items: r.versions, next: r.nextPageToken })),
    );
  }

  /** The ordered concepts of a model's head, or of one version's name. */
  lineage(name: string, options: CallOptions = {}): Promise<Lineage__Output> {
    const s = this.services.models;
    return this.unary(s.GetLineage.bind(s), { name: modelName(name) }, 'read', options);
  }

  /** Moves the model's head to an earlier version (models/m/versions/v). */
  rollback(model: string, version: string, options: CallOptions = {}): Promise<Model__Output> {
    const s = this.services.models;
    return this.unary(
      s.RollbackModel.bind(s),
      { name: modelName(model), version },
      'read', // Rolling back to the same version twice changes nothing.
      options,
    );
  }

  /**
   * A new model `id` that starts at `sourceVersion`
   * ("models/m/versions/3"), sharing its concepts, images and adapters.
   */
  forkModel(
    sourceVersion: string,
    id: string,
    model: Model = {},
    options: CreateOptions = {},
  ): Promise<Model__Output> {
    const s = this.services.models;
    const requestId = options.requestId ?? randomUUID();
    return this.unary(
      s.ForkModel.bind(s),
      { sourceVersion, modelId: id, model, requestId },
      'create',
      options,
    );
  }

  // ---- Concepts and images ------------------------------------------------

  /** Creates models/{model}/concepts/{id}; concept.token is its own new token. */
  createConcept(
    model: string,
    id: string,
    concept: Concept,
    options: CreateOptions = {},
  ): Promise<Concept__Output> {
    const s = this.services.concepts;
    const requestId = options.requestId ?? randomUUID();
    return this.unary(
      s.CreateConcept.bind(s),
      { parent: modelName(model), conceptId: id, concept, requestId },
      'create',
      options,
    );
  }

  getConcept(name: string, options: CallOptions = {}): Promise<Concept__Output> {
    const s = this.services.concepts;
    return this.unary(s.GetConcept.bind(s), { name }, 'read', options);
  }

  listConcepts(model: string, options: CallOptions = {}): AsyncIterable<Concept__Output> {
    const s = this.services.concepts;
    return this.pages((pageToken) =>
      this.unary<ListConceptsRequest, ListConceptsResponse__Output>(
        s.ListConcepts.bind(s),
        { parent: modelName(model), pageToken },
        'read',
        options,
      ).then((r: ListConceptsResponse__Output) => ({ items: r.concepts, next: r.nextPageToken })),
    );
  }

  deleteConcept(
    name: string,
    options: CallOptions & { force?: boolean } = {},
  ): Promise<DeleteConceptResponse__Output> {
    const s = this.services.concepts;
    return this.unary(
      s.DeleteConcept.bind(s),
      { name, force: options.force ?? false },
      'none',
      options,
    );
  }

  /**
   * Erases a trained concept for good, keeping the others (docs/api.md,
   * ConceptService.EraseConcept): its images and every version containing it
   * are deleted at once; with mode 'replay' (the account's default unless
   * its erasure policy is drop only) the later concepts
   * are queued to train again (`erasure.replayJobs`, watch them as any job),
   * with 'drop' they become DRAFT. Retried safely with a request id.
   */
  eraseConcept(
    name: string,
    options: CreateOptions & { mode?: 'replay' | 'drop' } = {},
  ): Promise<EraseConceptResponse__Output> {
    const s = this.services.concepts;
    const requestId = options.requestId ?? randomUUID();
    // Unset: the account's erasure policy decides (replay unless set otherwise).
    const mode =
      options.mode === undefined
        ? 'ERASURE_MODE_UNSPECIFIED'
        : options.mode === 'drop'
          ? 'ERASURE_MODE_DROP'
          : 'ERASURE_MODE_REPLAY';
    return this.unary(s.EraseConcept.bind(s), { name, mode, requestId }, 'create', options);
  }

  getErasure(name: string, options: CallOptions = {}): Promise<Erasure__Output> {
    const s = this.services.concepts;
    return this.unary(s.GetErasure.bind(s), { name }, 'read', options);
  }

  /** A model's erasures, oldest first. */
  listErasures(model: string, options: CallOptions = {}): AsyncIterable<Erasure__Output> {
    const s = this.services.concepts;
    return this.pages((pageToken) =>
      this.unary<ListErasuresRequest, ListErasuresResponse__Output>(
        s.ListErasures.bind(s),
        { parent: model, pageToken },
        'read',
        options,
      ).then((r: ListErasuresResponse__Output) => ({ items: r.erasures, next: r.nextPageToken })),
    );
  }

  listImages(concept: string, options: CallOptions = {}): AsyncIterable<Image__Output> {
    const s = this.services.concepts;
    return this.pages((pageToken) =>
      this.unary<ListImagesRequest, ListImagesResponse__Output>(s.ListImages.bind(s), { parent: concept, pageToken }, 'read', options).then(
        (r: ListImagesResponse__Output) => ({ items: r.images, next: r.nextPageToken }),
      ),
    );
  }

  /**
   * Streams images (file paths, or {filename, data}) into a DRAFT concept,
   * reporting bytes sent. The whole upload is retried on UNAVAILABLE: the
   * server deduplicates by content, so a repeat reports DUPLICATE.
   */
  async uploadImages(
    concept: string,
    images: ImageSource[],
    options: CallOptions & {
      onProgress?: (progress: UploadProgress) => void;
      skipInvalid?: boolean;
    } = {},
  ): Promise<UploadImagesResponse__Output> {
    const s = this.services.concepts;
    return this.withRetries('read', options.signal, async () => {
      const metadata = this.metadata();
      return await streamImages(
        (callback) =>
          s.UploadImages(metadata, this.callOptions(options, 10 * this.timeoutMs), callback),
        { parent: concept, skipInvalid: options.skipInvalid ?? false },
        images,
        options.onProgress,
        options.signal,
      );
    });
  }

  // ---- Training -----------------------------------------------------------

  /**
   * Queues a job that teaches the concept to the model's head. `webhookUrl`
   * receives its state changes, signed (else the model's webhookUrl).
   */
  train(
    concept: string,
    settings: TrainingSettings = {},
    options: CreateOptions & { webhookUrl?: string } = {},
  ): Promise<Job__Output> {
    const s = this.services.training;
    const requestId = options.requestId ?? randomUUID();
    return this.unary(
      s.TrainConcept.bind(s),
      {
        parent: concept.split('/concepts/')[0],
        concept,
        settings,
        requestId,
        webhookUrl: options.webhookUrl ?? '',
      },
      'create',
      options,
    );
  }

  /** The tenant's webhook signing secret, "whsec_..." (see verifyWebhook). */
  async webhookSecret(options: CallOptions = {}): Promise<string> {
    const s = this.services.training;
    const answer: WebhookSecret__Output = await this.unary(
      s.GetWebhookSecret.bind(s),
      {},
      'read',
      options,
    );
    return answer.secret;
  }

  /** Replaces the secret; later deliveries are signed with the new one. */
  async rotateWebhookSecret(options: CallOptions = {}): Promise<string> {
    const s = this.services.training;
    const answer: RotateWebhookSecretResponse__Output = await this.unary(
      s.RotateWebhookSecret.bind(s),
      {},
      'none',
      options,
    );
    return answer.secret;
  }

  getJob(name: string, options: CallOptions = {}): Promise<Job__Output> {
    const s = this.services.training;
    return this.unary(s.GetJob.bind(s), { name }, 'read', options);
  }

  listJobs(
    model: string,
    states: JobState[] = [],
    options: CallOptions = {},
  ): AsyncIterable<Job__Output> {
    const s = this.services.training;
    return this.pages((pageToken) =>
      this.unary<ListJobsRequest, ListJobsResponse__Output>(
        s.ListJobs.bind(s),
        { parent: modelName(model), states, pageToken },
        'read',
        options,
      ).then((r: ListJobsResponse__Output) => ({ items: r.jobs, next: r.nextPageToken })),
    );
  }

  cancelJob(name: string, options: CallOptions = {}): Promise<Job__Output> {
    const s = this.services.training;
    return this.unary(s.CancelJob.bind(s), { name }, 'none', options);
  }

  retryJob(name: string, options: CallOptions = {}): Promise<Job__Output> {
    const s = this.services.training;
    return this.unary(s.RetryJob.bind(s), { name }, 'none', options);
  }

  /**
   * The job's snapshots as they change, ending with its final state. A
   * broken stream (UNAVAILABLE, a server restart) is reopened with back-off;
   * the first snapshot after a reconnect is the current state.
   */
  async *watch(job: string, options: WatchOptions = {}): AsyncGenerator<Job__Output> {
    const s = this.services.training;
    let failures = 0;
    for (;;) {
      if (options.signal?.aborted) {
        throw new StaminaError(grpc.status.CANCELLED, 'aborted by the caller');
      }
      const call = s.WatchJob(
        { name: job, minIntervalMs: options.minIntervalMs ?? 0 },
        this.metadata(),
        {},
      );
      const abort = () => call.cancel();
      options.signal?.addEventListener('abort', abort, { once: true });
      try {
        for await (const update of call as AsyncIterable<{ job: Job__Output }>) {
          failures = 0;
          yield update.job;
          if (TERMINAL.has(String(update.job.state))) return;
        }
        // The server ends the stream only after a terminal state; anything
        // else is a broken connection (a proxy closing idle streams):
        // reconnect after a back-off.
        if (++failures >= this.retry.maxAttempts * 3) {
          throw new StaminaError(grpc.status.UNAVAILABLE, `${job}: the watch kept ending early`);
        }
        await this.backoff(failures, options.signal);
      } catch (error) {
        const typed = fromGrpcError(error);
        if (options.signal?.aborted) throw typed;
        const reconnect =
          typed instanceof StaminaError &&
          (typed.code === grpc.status.UNAVAILABLE || typed.code === grpc.status.INTERNAL);
        if (!reconnect || ++failures >= this.retry.maxAttempts * 3) throw typed;
        await this.backoff(failures, options.signal);
      } finally {
        options.signal?.removeEventListener('abort', abort);
        call.cancel();
      }
    }
  }

  /**
   * Waits for the job to end. Resolves with the SUCCEEDED job (its
   * resultVersion is the new head); rejects with JobFailedError otherwise.
   */
  async wait(job: string, options: WaitOptions = {}): Promise<Job__Output> {
    let last: Job__Output | undefined;
    for await (const update of this.watch(job, options)) {
      last = update;
      options.onUpdate?.(update);
    }
    if (last === undefined) throw new StaminaError(grpc.status.UNKNOWN, `${job}: no update`);
    if (last.state !== 'JOB_STATE_SUCCEEDED') throw new JobFailedError(last);
    return last;
  }

  // ---- Sampling and export ------------------------------------------------

  /** Samples images of a model's head (or request.version), as PNG bytes. */
  async sample(request: SampleRequest, options: SampleOptions = {}): Promise<SampledImage[]> {
    const s = this.services.sampler;
    return this.withRetries('read', options.signal, () => {
      const call = s.Sample(
        { ...request, model: modelName(request.model ?? '') },
        this.metadata(),
        this.callOptions(options, 20 * this.timeoutMs),
      );
      return collect(call, options.signal, (images: SampledImage[], response) => {
        if (response.progress) options.onProgress?.(response.progress);
        if (response.image) images.push(toSampledImage(response.image));
      });
    });
  }

  /**
   * Samples the same prompts and seeds from two versions (A: the head by
   * default) and reports each prompt's images and pixel drift (0 = the same
   * images). Without prompts, one per concept token of either version.
   */
  compareVersions(
    model: string,
    versionB: string,
    options: CallOptions & {
      versionA?: string;
      prompts?: string[];
      imageCount?: number;
      steps?: number;
      seed?: number;
    } = {},
  ): Promise<CompareVersionsResponse__Output> {
    const s = this.services.sampler;
    const request = {
      model: modelName(model),
      versionA: options.versionA ?? '',
      versionB,
      prompts: options.prompts ?? [],
      imageCount: options.imageCount ?? 0,
      steps: options.steps ?? 0,
      seed: options.seed ?? 0,
    };
    return this.unary(s.CompareVersions.bind(s), request, 'read', {
      ...options,
      timeoutMs: options.timeoutMs ?? 20 * this.timeoutMs,
    });
  }

  /**
   * Exports a version (head by default) into directory `outDir`: the folded
   * diffusers checkpoint, or only the adapters. Paths from the server are
   * checked to stay inside outDir.
   */
  async exportModel(
    model: string,
    outDir: string,
    options: CallOptions & { version?: string; format?: ExportFormat; halfPrecision?: boolean } = {},
  ): Promise<{ version: string; files: ExportedFile[] }> {
    const s = this.services.sampler;
    return this.withRetries('read', options.signal, () => {
      const call = s.ExportModel(
        {
          model: modelName(model),
          version: options.version ?? '',
          format: options.format ?? 'EXPORT_FORMAT_DIFFUSERS',
          halfPrecision: options.halfPrecision ?? false,
        },
        this.metadata(),
        this.callOptions(options, 20 * this.timeoutMs),
      );
      return writeExport(call, outDir, options.signal, fromGrpcError);
    });
  }

  // ---- Plumbing -----------------------------------------------------------

  private metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${this.apiKey}`);
    return metadata;
  }

  private callOptions(options: CallOptions, defaultMs = this.timeoutMs): grpc.CallOptions {
    return { deadline: Date.now() + (options.timeoutMs ?? defaultMs) };
  }

  private unary<Req, Res>(
    method: Unary<Req, Res>,
    request: Req,
    retryClass: RetryClass,
    options: CallOptions,
  ): Promise<Res> {
    return this.withRetries(retryClass, options.signal, () =>
      new Promise<Res>((resolve, reject) => {
        let unhook = () => undefined as void;
        const call = method(request, this.metadata(), this.callOptions(options), (error, res) => {
          unhook();
          if (error) reject(error);
          else resolve(res as Res);
        });
        unhook = abortWith(options.signal, () => call.cancel());
      }),
    );
  }

  private async withRetries<T>(
    retryClass: RetryClass,
    signal: AbortSignal | undefined,
    attempt: () => Promise<T>,
  ): Promise<T> {
    for (let n = 1; ; ++n) {
      try {
        if (signal?.aborted) throw new StaminaError(grpc.status.CANCELLED, 'aborted by the caller');
        return await attempt();
      } catch (error) {
        const typed = fromGrpcError(error);
        if (n >= this.retry.maxAttempts || signal?.aborted || !retryable(typed, retryClass)) {
          throw typed;
        }
        await this.backoff(n, signal);
      }
    }
  }

  private backoff(attempt: number, signal?: AbortSignal): Promise<void> {
    const ceiling = Math.min(
      this.retry.maxBackoffMs,
      this.retry.initialBackoffMs * 2 ** (attempt - 1),
    );
    const ms = Math.random() * ceiling;
    return new Promise((resolve) => {
      const unhook = abortWith(signal, () => {
        clearTimeout(timer);
        resolve();
      });
      const timer = setTimeout(() => {
        unhook();
        resolve();
      }, ms);
    });
  }

  private pages<T>(
    fetch: (pageToken: string) => Promise<{ items: T[]; next: string }>,
  ): AsyncIterable<T> {
    return {
      async *[Symbol.asyncIterator]() {
        let token = '';
        do {
          const page = await fetch(token);
          yield* page.items;
          token = page.next;
        } while (token);
      },
    };
  }
}

function retryable(error: unknown, retryClass: RetryClass): boolean {
  if (!(error instanceof StaminaError) || retryClass === 'none') return false;
  switch (error.code) {
    case grpc.status.UNAVAILABLE:
    case grpc.status.RESOURCE_EXHAUSTED:
    case grpc.status.INTERNAL:
      return true;
    case grpc.status.DEADLINE_EXCEEDED:
      return retryClass === 'create';
    default:
      return false;
  }
}

/** "m" and "models/m" both name models/m; version names pass through. */
function modelName(name: string): string {
  return name.startsWith('models/') ? name : `models/${name}`;
}

/** Runs onAbort when the signal aborts; returns the function that unhooks it. */
function abortWith(signal: AbortSignal | undefined, onAbort: () => void): () => void {
  if (!signal) return () => undefined;
  if (signal.aborted) {
    onAbort();
    return () => undefined;
  }
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

function toSampledImage(image: GeneratedImage__Output): SampledImage {
  return {
    index: image.index,
    png: Buffer.from(image.png),
    width: image.width,
    height: image.height,
    seed: image.seed,
    version: image.version,
  };
}

/** Drains a server stream into an accumulator; rejects with typed errors. */
function collect<Acc extends unknown[], Msg>(
  call: grpc.ClientReadableStream<Msg>,
  signal: AbortSignal | undefined,
  onMessage: (acc: Acc, message: Msg) => void,
): Promise<Acc> {
  const acc = [] as unknown as Acc;
  return new Promise((resolve, reject) => {
    const unhook = abortWith(signal, () => call.cancel());
    call.on('close', unhook);
    call.on('data', (message: Msg) => {
      try {
        onMessage(acc, message);
      } catch (error) {
        call.cancel();
        reject(error);
      }
    });
    call.on('error', (error) => reject(fromGrpcError(error)));
    call.on('end', () => resolve(acc));
  });
}
