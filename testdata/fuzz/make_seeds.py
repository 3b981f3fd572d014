#!/usr/bin/python3
"""Writes the seed corpora of safetensors_fuzz, diffusers_config_fuzz and
request_fuzz under testdata/fuzz/<target>/ (image_decoder_fuzz's come from
make_image_seeds.cc). Small valid inputs, so each fuzzer starts past the
format's outer checks; the output is committed, rerun only to change it.

  /usr/bin/python3 testdata/fuzz/make_seeds.py   # from the repository root

Request seeds are real wire bytes: the protos are compiled with protoc
--python_out into a temporary directory (Debian's python3-protobuf).
"""

import json
import os
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FUZZ = os.path.join(ROOT, "testdata", "fuzz")
CHECKPOINT = os.path.join(ROOT, "testdata", "diffusers-tiny-sd", "checkpoint")


def write(target, name, data):
    path = os.path.join(FUZZ, target, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


# ------------------------------------------------------------- safetensors --
def safetensors(tensors, metadata=None):
    """tensors: [(name, dtype, shape, raw bytes)] laid out in order."""
    header, buffer = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(buffer), len(buffer) + len(raw)]}
        buffer += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the reference writer pads to 8
    return struct.pack("<Q", len(text)) + text + buffer


def safetensors_seeds():
    t = "safetensors_fuzz"
    write(t, "f32_2x2.safetensors",
          safetensors([("w", "F32", [2, 2], struct.pack("<4f", 1, -2, 0.5, 3))],
                      {"format": "pt"}))
    write(t, "all_dtypes.safetensors", safetensors([
        ("a.f64", "F64", [1], struct.pack("<d", 1.5)),
        ("b.i64", "I64", [2], struct.pack("<2q", -1, 7)),
        ("c.i32", "I32", [1], struct.pack("<i", 42)),
        ("d.f16", "F16", [2], b"\x00\x3c\x00\xc0"),
        ("e.bf16", "BF16", [], b"\x80\x3f"),
        ("f.i16", "I16", [1], struct.pack("<h", -3)),
        ("g.i8", "I8", [2], b"\x01\xff"),
        ("h.u8", "U8", [1, 3], b"\x00\x7f\xff"),
        ("i.bool", "BOOL", [3], b"\x00\x01\x01"),
        ("j.empty", "F32", [0, 4], b""),
    ]))
    write(t, "empty.safetensors", safetensors([]))
    write(t, "metadata_only.safetensors",
          safetensors([], {"format": "pt", "stamina.token": "<anna>"}))
    # A real adapter-shaped pair (lora_down / lora_up), as a worker writes.
    write(t, "lora_pair.safetensors", safetensors([
        ("unet.attn2.to_k.lora_down.weight", "F32", [4, 8], bytes(128)),
        ("unet.attn2.to_k.lora_up.weight", "F32", [8, 4], bytes(128)),
    ], {"format": "pt"}))


# ----------------------------------------------------- diffusers configs --
CONFIG_KINDS = {  # the kind byte of diffusers_config_fuzz.cc
    "model_index.json": 0,
    "unet/config.json": 1,
    "vae/config.json": 2,
    "text_encoder/config.json": 3,
    "scheduler/scheduler_config.json": 4,
    "tokenizer/tokenizer_config.json": 5,
}


def config_seeds():
    t = "diffusers_config_fuzz"
    for path, kind in CONFIG_KINDS.items():
        with open(os.path.join(CHECKPOINT, path), "rb") as f:
            text = f.read()
        write(t, "tiny_sd." + path.replace("/", "."), bytes([kind]) + text)
    with open(os.path.join(CHECKPOINT, "scheduler/scheduler_config.json")) as f:
        scheduler = json.load(f)
    # The other schedules and prediction types SD 2.x checkpoints use.
    scheduler.update({"_class_name": "DDIMScheduler",
                      "beta_schedule": "squaredcos_cap_v2",
                      "prediction_type": "v_prediction",
                      "timestep_spacing": "trailing", "clip_sample": False})
    write(t, "ddim_cosine_v.scheduler_config.json",
          bytes([4]) + json.dumps(scheduler, indent=2).encode())
    tokenizer_config = {
        "model_max_length": 77, "tokenizer_class": "CLIPTokenizer",
        "added_tokens_decoder": {
            "49406": {"content": "<|startoftext|>", "special": True},
            "49407": {"content": "<|endoftext|>", "special": True},
            "49408": {"content": "<anna>", "special": False}}}
    write(t, "added_tokens.json",
          bytes([6]) + json.dumps(tokenizer_config).encode() + b"\0" +
          json.dumps({"<anna>": 49408, "<tower>": 49409}).encode())


# ---------------------------------------------------------------- requests --
def request_seeds():
    t = "request_fuzz"
    with tempfile.TemporaryDirectory() as gen:
        protos = ["stamina/v1/concept.proto", "stamina/v1/job.proto",
                  "stamina/v1/model.proto", "stamina/v1/sampler_service.proto",
                  "stamina/v1/training_service.proto",
                  "stamina/internal/v1/sampler_backend.proto"]
        subprocess.run(["protoc", "-I.", "-I/usr/include", "--python_out=" + gen]
                       + protos, cwd=os.path.join(ROOT, "protos"), check=True)
        sys.path.insert(0, gen)
        from stamina.v1 import sampler_service_pb2 as sampler
        from stamina.v1 import training_service_pb2 as training
        from stamina.v1 import job_pb2 as job
        from stamina.internal.v1 import sampler_backend_pb2 as backend

    def seed(name, kind, message):
        write(t, name, bytes([kind]) + message.SerializeToString())

    seed("sample_minimal", 0, sampler.SampleRequest(
        model="models/m1", prompt="a photo of <anna>"))
    seed("sample_full", 0, sampler.SampleRequest(
        model="models/m1", version="models/m1/versions/2",
        prompt="<anna> and <tower> at dusk", negative_prompt="blurry",
        image_count=4, steps=30, guidance_scale=7.5, seed=1234, width=256,
        height=512, sampler=sampler.SAMPLER_EULER))
    seed("train_default", 1, training.TrainConceptRequest(
        parent="models/m1", concept="models/m1/concepts/c1", request_id="r1"))
    seed("train_stamina", 1, training.TrainConceptRequest(
        parent="models/m1", concept="models/m1/concepts/c1",
        settings=job.TrainingSettings(
            method=job.TRAINING_METHOD_STAMINA, steps=150, batch_size=4,
            lora_rank=8, learning_rate=2e-3, token_learning_rate=1e-2, seed=9,
            target_modules=["attn2.to_k", "attn2.to_v"],
            context_preservation=job.CONTEXT_PRESERVATION_PENALIZE,
            context_weight=0.5,
            stamina=job.StaminaSettings(mask_rank=8, mask_temperature=1.0,
                                        sparsity=job.MASK_SPARSITY_L1,
                                        sparsity_weight=0.01,
                                        token_max_rms=-1))))
    seed("train_clora", 1, training.TrainConceptRequest(
        parent="models/m1", concept="models/m1/concepts/c2",
        settings=job.TrainingSettings(
            method=job.TRAINING_METHOD_CLORA,
            clora=job.CLoraSettings(regularization_weight=1e3))))
    digest = "ab" * 32
    seed("backend_sample", 2, backend.SampleRequest(
        tenant="t1",
        recipe=backend.ModelRecipe(
            model="models/m1", version="models/m1/versions/1",
            base_model="baseModels/stamina-tiny-v1", base_model_digest=digest,
            adapter_digests=[digest], tokens=["<anna>"]),
        request=sampler.SampleRequest(
            model="models/m1", prompt="<anna>", image_count=1, steps=25,
            guidance_scale=7.5, seed=5)))


if __name__ == "__main__":
    safetensors_seeds()
    config_seeds()
    request_seeds()
