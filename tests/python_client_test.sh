#!/usr/bin/env bash
# The README's Python quickstart (client_examples/python/quickstart.py) run as
# a user would against the real staminad binary on a free port: photos made
# by sampling the base model, a short training, a sample written to anna.png.
set -euo pipefail
STAMINAD="$1"
QUICKSTART="$(pwd)/$2"
source tests/e2e_lib.sh
export STAMINA_STUBS_DIR="${TEST_TMPDIR}/stubs"
export PYTHONPATH="$(pwd)/client_examples/python"

# No base model files: staminad falls back to random stamina-tiny-v1 weights.
start_staminad pytest || exit 1
export STAMINA_ADDRESS="127.0.0.1:${PORT}" STAMINA_API_KEY="${KEY}" STEPS=5
PHOTOS="${TEST_TMPDIR}/photos"
/usr/bin/python3 - "${PHOTOS}" <<'PY'
import os, sys
from stamina_client import Client
os.makedirs(sys.argv[1])
with Client(os.environ["STAMINA_ADDRESS"], os.environ["STAMINA_API_KEY"]) as stamina:
    caps = stamina.capabilities()
    stamina.create_model("photos")
    side = caps.base_models[0].resolution
    for i, image in enumerate(stamina.sample("photos", "a person", seed=3, width=side,
                                             height=side,
                                             image_count=caps.limits.min_images_per_concept)):
        with open(os.path.join(sys.argv[1], f"{i}.png"), "wb") as f:
            f.write(image.png)
PY
cd "${TEST_TMPDIR}"
/usr/bin/python3 "${QUICKSTART}" "${PHOTOS}" | tee client.out
grep -qx "JOB_STATE_RUNNING [0-9]*/[0-9]*" client.out
grep -qx "JOB_STATE_SUCCEEDED 5/5" client.out
grep -qx "models/family/versions/1: anna.png" client.out
head -c 4 anna.png | grep -q PNG
echo "python quickstart OK"
