// Typed errors: every failed call rejects with a StaminaError subclass that
// carries the gRPC status code, the server's message and, when the server
// named one, the offending field (docs/api.md §8: a message that blames one
// field starts with its path, e.g. "settings.steps: 0 is out of range").
import { Metadata, status as Status, ServiceError } from '@grpc/grpc-js';

import type { JobError__Output } from './generated/stamina/v1/JobError';
import type { Job__Output } from './generated/stamina/v1/Job';

// A leading "path: " where path looks like a proto field path
// (settings.steps, images[3], page_token); anything else is not a field.
const FIELD_PREFIX = /^([a-z][a-z0-9_]*(?:\[\d+\])?(?:\.[a-z][a-z0-9_]*(?:\[\d+\])?)*): /;

export class StaminaError extends Error {
  /** The gRPC status code (grpc.status.*). */
  readonly code: number;
  /** The code's name, e.g. "INVALID_ARGUMENT". */
  readonly codeName: string;
  /** The server's message, unchanged. */
  readonly details: string;
  /** The request field the server blamed, e.g. "settings.steps", if any. */
  readonly field?: string;
  /** Trailing metadata of the failed call. */
  readonly metadata?: Metadata;

  constructor(code: number, details: string, metadata?: Metadata) {
    const codeName = Status[code] ?? `CODE_${code}`;
    super(`${codeName}: ${details}`);
    this.name = new.target.name;
    this.code = code;
    this.codeName = codeName;
    this.details = details;
    this.field = FIELD_PREFIX.exec(details)?.[1];
    this.metadata = metadata;
  }

  /** Whether docs/api.md §8 says the same call may succeed if repeated later. */
  get transient(): boolean {
    return (
      this.code === Status.UNAVAILABLE ||
      this.code === Status.RESOURCE_EXHAUSTED ||
      this.code === Status.DEADLINE_EXCEEDED ||
      this.code === Status.INTERNAL
    );
  }
}

export class InvalidArgumentError extends StaminaError {}
export class NotFoundError extends StaminaError {}
export class AlreadyExistsError extends StaminaError {}
export class FailedPreconditionError extends StaminaError {}
export class ResourceExhaustedError extends StaminaError {}
export class UnavailableError extends StaminaError {}
export class UnauthenticatedError extends StaminaError {}
export class DeadlineExceededError extends StaminaError {}
export class CancelledError extends StaminaError {}
export class DataLossError extends StaminaError {}
export class InternalError extends StaminaError {}

const BY_CODE: Partial<Record<number, new (c: number, d: string, m?: Metadata) => StaminaError>> =
  {
    [Status.INVALID_ARGUMENT]: InvalidArgumentError,
    [Status.NOT_FOUND]: NotFoundError,
    [Status.ALREADY_EXISTS]: AlreadyExistsError,
    [Status.FAILED_PRECONDITION]: FailedPreconditionError,
    [Status.RESOURCE_EXHAUSTED]: ResourceExhaustedError,
    [Status.UNAVAILABLE]: UnavailableError,
    [Status.UNAUTHENTICATED]: UnauthenticatedError,
    [Status.DEADLINE_EXCEEDED]: DeadlineExceededError,
    [Status.CANCELLED]: CancelledError,
    [Status.DATA_LOSS]: DataLossError,
    [Status.INTERNAL]: InternalError,
  };

/** The typed error for a gRPC failure (anything else is returned as is). */
export function fromGrpcError(error: unknown): unknown {
  const e = error as Partial<ServiceError>;
  if (error instanceof StaminaError || typeof e?.code !== 'number') return error;
  const Type = BY_CODE[e.code] ?? StaminaError;
  return new Type(e.code, e.details ?? e.message ?? '', e.metadata);
}

/** A training job that ended FAILED or CANCELLED while the client waited for it. */
export class JobFailedError extends StaminaError {
  readonly job: Job__Output;
  readonly retryable: boolean;

  constructor(job: Job__Output) {
    const error: JobError__Output | null = job.error;
    const code = job.state === 'JOB_STATE_CANCELLED' ? Status.CANCELLED : (error?.code ?? 0);
    super(code, `${job.name} ${job.state}${error?.message ? `: ${error.message}` : ''}`);
    this.job = job;
    this.retryable = error?.retryable ?? false;
  }
}
