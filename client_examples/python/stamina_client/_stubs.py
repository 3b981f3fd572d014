"""Imports the generated stamina.v1 modules.

They live in $STAMINA_STUBS_DIR or stamina_client/_generated (made by
`python3 -m stamina_client.generate`); generated code imports itself as the
top-level package `stamina.v1`, so that directory goes on sys.path. When
the stubs are missing and the repository's protos are at hand, they are
generated on first import.
"""

import os
import sys

from stamina_client import _protos as _generate

_DIR = os.environ.get("STAMINA_STUBS_DIR", _generate.DEFAULT_OUT)
if not os.path.exists(os.path.join(_DIR, "stamina", "v1", "model_service_pb2.py")):
    _generate.generate(out=_DIR)
if _DIR not in sys.path:
    sys.path.insert(0, _DIR)

from stamina.v1 import concept_pb2, concept_service_pb2, concept_service_pb2_grpc  # noqa: E402
from stamina.v1 import job_pb2, model_pb2, model_service_pb2, model_service_pb2_grpc  # noqa: E402
from stamina.v1 import sampler_service_pb2, sampler_service_pb2_grpc  # noqa: E402
from stamina.v1 import training_service_pb2, training_service_pb2_grpc  # noqa: E402

__all__ = [
    "concept_pb2", "concept_service_pb2", "concept_service_pb2_grpc", "job_pb2", "model_pb2",
    "model_service_pb2", "model_service_pb2_grpc", "sampler_service_pb2",
    "sampler_service_pb2_grpc", "training_service_pb2", "training_service_pb2_grpc",
]
