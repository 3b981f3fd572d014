"""What tests/layering's genquery covers.

PACKAGES: every package with rules but tests/layering itself, and whether it
has an :all_tests suite. ROOTS: the targets no test reaches (binaries that
only people run), which the scope must name one by one.
"""

PACKAGES = {
    "//app": False,
    "//bench": True,
    "//cli": True,
    "//client_examples": False,
    "//common": True,
    "//common/testing": False,
    "//core": True,
    "//core/adapters": True,
    "//core/io": True,
    "//core/models": True,
    "//core/nn": True,
    "//core/pipelines": True,
    "//core/schedulers": True,
    "//core/testing": False,
    "//core/tokenizers": True,
    "//core/training": True,
    "//core/world": True,
    "//deploy/kubernetes": True,
    "//images": True,
    "//models": False,
    "//protos": True,
    "//rpc": True,
    "//sampler": True,
    "//server": True,
    "//storage": True,
    "//storage/testing": False,
    "//testdata": False,
    "//third_party/tsan": True,
    "//tests": True,
    "//tools": True,
    "//webhooks": True,
    "//worker": True,
    "//worker/testing": False,
}

ROOTS = [
    "//bench:base_model",
    "//bench:concept_step",
    "//bench:continual",
    "//bench:diffusers_cost",
    "//bench:read_samples",
    "//bench:registry",
    "//bench:sample_batch",
    "//bench:service",
    "//bench:soak",
    "//bench:train_step",
    "//bench:work_queue",
    "//core/io:safetensors_fuzz",
    "//core/pipelines:diffusers_config_fuzz",
    "//core/world:train_oracle",
    "//images:image_decoder_fuzz",
    "//server:request_fuzz",
    "//tools:contact_sheet",
    "//tools:demo",
    "//tools:pretrain",
]
