"""Typed errors: a failed call raises a StaminaError subclass carrying the
gRPC status code, the server's message and, when the server blamed one
field, its path (docs/api.md §8: such a message starts with "field.path: ")."""

import re
from typing import Optional

import grpc

_FIELD_PREFIX = re.compile(r"^([a-z][a-z0-9_]*(?:\[\d+\])?(?:\.[a-z][a-z0-9_]*(?:\[\d+\])?)*): ")


class StaminaError(Exception):
    def __init__(self, code: grpc.StatusCode, details: str):
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details
        match = _FIELD_PREFIX.match(details)
        self.field: Optional[str] = match.group(1) if match else None

    @property
    def transient(self) -> bool:
        """Whether the same call may succeed later (docs/api.md §8)."""
        return self.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED,
                             grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.INTERNAL)


class InvalidArgumentError(StaminaError): pass
class NotFoundError(StaminaError): pass
class AlreadyExistsError(StaminaError): pass
class FailedPreconditionError(StaminaError): pass
class ResourceExhaustedError(StaminaError): pass
class UnavailableError(StaminaError): pass
class UnauthenticatedError(StaminaError): pass
class DeadlineExceededError(StaminaError): pass
class CancelledError(StaminaError): pass
class DataLossError(StaminaError): pass
class InternalError(StaminaError): pass


_BY_CODE = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgumentError,
    grpc.StatusCode.NOT_FOUND: NotFoundError,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExistsError,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPreconditionError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhaustedError,
    grpc.StatusCode.UNAVAILABLE: UnavailableError,
    grpc.StatusCode.UNAUTHENTICATED: UnauthenticatedError,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceededError,
    grpc.StatusCode.CANCELLED: CancelledError,
    grpc.StatusCode.DATA_LOSS: DataLossError,
    grpc.StatusCode.INTERNAL: InternalError,
}


def from_rpc_error(error: grpc.RpcError) -> StaminaError:
    code = error.code()
    return _BY_CODE.get(code, StaminaError)(code, error.details() or "")


class JobFailedError(StaminaError):
    """A training job ended FAILED or CANCELLED while the client waited."""

    def __init__(self, job):
        from stamina_client._stubs import job_pb2
        state = job_pb2.JobState.Name(job.state)
        if job.state == job_pb2.JOB_STATE_CANCELLED:
            code = grpc.StatusCode.CANCELLED
        else:
            code = next((c for c in grpc.StatusCode if c.value[0] == job.error.code),
                        grpc.StatusCode.UNKNOWN)
        message = f"{job.name} {state}" + (f": {job.error.message}" if job.error.message else "")
        super().__init__(code, message)
        self.job = job
        self.retryable = job.error.retryable
