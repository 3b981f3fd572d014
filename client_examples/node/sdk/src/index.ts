// @stamina/client: the Stamina API for Node and TypeScript.
export { StaminaClient } from './client';
export type {
  CallOptions,
  ClientOptions,
  CreateOptions,
  RetryOptions,
  SampledImage,
  SampleOptions,
  WaitOptions,
  WatchOptions,
} from './client';
export * from './errors';
export { verifyWebhook, WebhookVerificationError } from './webhooks';
export type { WebhookEvent } from './webhooks';
export type { ImageSource, UploadProgress } from './upload';
export type { ExportedFile } from './export';
// Every stamina.v1 message, as sent (T) and as received (T__Output).
export type * from './generated/sampler_service';
export type { ProtoGrpcType as ModelServiceTypes } from './generated/model_service';
