"""stamina_client: the Stamina API for Python (stamina.v1 over gRPC).

    from stamina_client import Client
    with Client("127.0.0.1:7070", api_key) as stamina:
        stamina.create_model("family")
        ...
"""

from stamina_client.client import Client, SampledImage, model_name
from stamina_client.errors import (AlreadyExistsError, CancelledError, DataLossError,
                                   DeadlineExceededError, FailedPreconditionError, InternalError,
                                   InvalidArgumentError, JobFailedError, NotFoundError,
                                   ResourceExhaustedError, StaminaError, UnauthenticatedError,
                                   UnavailableError)
from stamina_client.webhooks import WebhookVerificationError, verify_webhook
from stamina_client._stubs import (concept_pb2, job_pb2, model_pb2,  # noqa: F401
                                   sampler_service_pb2)

__all__ = [
    "Client", "SampledImage", "model_name", "StaminaError", "AlreadyExistsError",
    "CancelledError", "DataLossError", "DeadlineExceededError", "FailedPreconditionError",
    "InternalError", "InvalidArgumentError", "JobFailedError", "NotFoundError",
    "ResourceExhaustedError", "UnauthenticatedError", "UnavailableError", "concept_pb2",
    "job_pb2", "model_pb2", "sampler_service_pb2", "verify_webhook", "WebhookVerificationError",
]
