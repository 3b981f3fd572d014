#!/usr/bin/env python3
"""Stamina quickstart in Python: create a model and a concept, list them, and
read the service's capabilities.

Generate the stubs once (Debian: python3-grpc-tools, use /usr/bin/python3):

  /usr/bin/python3 -m grpc_tools.protoc -Iprotos -I/usr/include \
      --python_out=OUT --grpc_python_out=OUT protos/stamina/v1/*.proto

then run:

  PYTHONPATH=OUT /usr/bin/python3 client_examples/python/quickstart.py \
      --address=127.0.0.1:7070 --api_key=stk_...
"""

import argparse
import sys
import uuid

import grpc

from stamina.v1 import concept_pb2, concept_service_pb2, concept_service_pb2_grpc
from stamina.v1 import model_pb2, model_service_pb2, model_service_pb2_grpc
from stamina.v1 import sampler_service_pb2, sampler_service_pb2_grpc


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", default="127.0.0.1:7070")
    parser.add_argument("--api_key", required=True)
    parser.add_argument("--model_id", default="quickstart")
    args = parser.parse_args()

    channel = grpc.insecure_channel(args.address)
    auth = [("authorization", "Bearer " + args.api_key)]
    models = model_service_pb2_grpc.ModelServiceStub(channel)
    concepts = concept_service_pb2_grpc.ConceptServiceStub(channel)
    sampler = sampler_service_pb2_grpc.SamplerServiceStub(channel)

    caps = sampler.GetCapabilities(sampler_service_pb2.GetCapabilitiesRequest(),
                                   metadata=auth)
    if not caps.base_models:
        print("the server has no base model registered", file=sys.stderr)
        return 1
    print("base models:", [b.name for b in caps.base_models])
    print("images per concept: %d-%d" % (caps.limits.min_images_per_concept,
                                         caps.limits.max_images_per_concept))

    request_id = str(uuid.uuid4())
    model = models.CreateModel(model_service_pb2.CreateModelRequest(
        model=model_pb2.Model(base_model=caps.base_models[0].name,
                              display_name="Quickstart"),
        model_id=args.model_id, request_id=request_id), metadata=auth)
    # A retry with the same request_id returns the same model.
    again = models.CreateModel(model_service_pb2.CreateModelRequest(
        model=model_pb2.Model(base_model=caps.base_models[0].name,
                              display_name="Quickstart"),
        model_id=args.model_id, request_id=request_id), metadata=auth)
    assert again.name == model.name
    print("created", model.name, "on", model.base_model)

    anna = concepts.CreateConcept(concept_service_pb2.CreateConceptRequest(
        parent=model.name, concept_id="anna",
        concept=concept_pb2.Concept(token="<anna>", display_name="Anna")),
        metadata=auth)
    print("created", anna.name, "token", anna.token,
          "state", concept_pb2.ConceptState.Name(anna.state))

    try:
        models.GetModel(model_service_pb2.GetModelRequest(name="models/missing"),
                        metadata=auth)
    except grpc.RpcError as error:
        print("GetModel(models/missing):", error.code().name, "-", error.details())

    listed = models.ListModels(model_service_pb2.ListModelsRequest(), metadata=auth)
    print("models:", [m.name for m in listed.models])
    return 0


if __name__ == "__main__":
    sys.exit(main())
