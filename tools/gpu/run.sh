#!/usr/bin/env bash
# The one script for the GPU machine (issue #19): builds the project with
# CMake against the PyTorch wheel's CUDA LibTorch, runs the requires-gpu
# tests and the CPU tests of the device plumbing, then the GPU benchmarks
# that exist, writing everything under $OUT (default ./gpu-out).
#
# Here first:  tools/gpu/prepare.sh                 (gpu-carry/, git-ignored)
# Then there:  device run, carry ["gpu-carry"], command "tools/gpu/run.sh",
#              timeout_s 560 (the device lends 15 minutes per issue, start-up
#              included: one run, a second only to mend a first-run friction)
# Then here:   read $OUT/summary.txt and the per-step logs; commit $OUT under
#              bench/results/gpu-h200/ with a README (the command, the machine,
#              nvidia-smi and torch versions from the logs) and compare with
#              issue #19's targets: <= 10 s per 1,000-image SD 1.5 concept,
#              >= 35% of the bf16 peak at batch 8 (the summary's TFLOP/s line),
#              >= 1.5x eager (eager/ours), <= 1.0 s per 25-step CFG 512^2 image,
#              folded sampling within 3% of the base.
# Likely first-run frictions (never run on Ubuntu): sysroot headers against
# Ubuntu's /usr/include, libssl3 vs libssl3t64 (same soname), where
# cuda_runtime_api.h is (searched below), LibTorch 2.11's API in worker/,
# sampler/ and server/ (core/ and common/ were checked there by the issue).
#
# Each step logs to $OUT/<step>.log and the summary goes to $OUT/summary.txt;
# a failing step does not stop the later ones.
set -uo pipefail

workspace="$(cd "$(dirname "$0")/../.." && pwd)"
out="${OUT:-${workspace}/gpu-out}"
carry="${workspace}/gpu-carry"
build="${workspace}/build-gpu"
mkdir -p "${out}"
summary="${out}/summary.txt"
: > "${summary}"

step() {  # step NAME COMMAND...: runs, logs, records the outcome and seconds
  local name="$1"
  shift
  local start=${SECONDS}
  "$@" > "${out}/${name}.log" 2>&1
  local rc=$?
  printf '%-28s rc=%-3s %5ss\n' "${name}" "${rc}" "$((SECONDS - start))" | tee -a "${summary}"
  return ${rc}
}

{
  echo "date: $(date -u +%FT%TZ)"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
  g++ --version | head -1
  cmake --version | head -1
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' || true
  nproc
} > "${out}/machine.txt" 2>&1
cat "${out}/machine.txt"

torch_dir="$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')"
cuda_include="/usr/local/cuda/include"
[[ -e "${cuda_include}/cuda_runtime_api.h" ]] ||
  cuda_include="$(dirname "$(find / -name cuda_runtime_api.h -path '*include*' 2>/dev/null | head -1)")"

targets=(
  core_compute_device_test core_training_device_flow_test core_training_cuda_flow_test
  core_training_concept_trainer_test core_pipelines_text_to_image_pipeline_test
  sampler_in_process_sampler_test worker_torch_setup_test bench_train_step bench_concept_step
  bench_continual
)
step configure cmake -S "${workspace}" -B "${build}" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DSTAMINA_LIBTORCH="${torch_dir}" -DSTAMINA_SYSROOT="${carry}/sysroot" \
  -DSTAMINA_PROTO_GEN="${carry}/proto-gen" -DSTAMINA_CUDA_INCLUDE="${cuda_include}"
step build cmake --build "${build}" -j "$(nproc)" --target "${targets[@]}"

cd "${workspace}"
export TEST_TMPDIR="${build}/test_tmp"
mkdir -p "${TEST_TMPDIR}"
for test in core/compute_device_test core/training/device_flow_test \
    core/training/cuda_flow_test core/training/concept_trainer_test \
    core/pipelines/text_to_image_pipeline_test sampler/in_process_sampler_test \
    worker/torch_setup_test; do
  step "test-${test//\//_}" "${build}/${test}"
done
# GPU memory in use every 200 ms while the benchmarks run (peak per run).
nvidia-smi --query-gpu=timestamp,memory.used --format=csv,noheader -lms 200 \
  > "${out}/gpu-memory.csv" 2>/dev/null &
smi=$!
step bench-concept-step-tiny "${build}/bench/concept_step" --device=cuda \
  --out="${out}/concept_step-tiny" --batches=1,8,32 --steps=30 --warmup=5
step bench-concept-step-sd15-bf16 "${build}/bench/concept_step" --architecture=sd15 \
  --device=cuda --compute_dtype=bf16 --out="${out}/concept_step-sd15-bf16" \
  --batches=1,4,8 --steps=25 --warmup=5 --samples=3
step bench-concept-step-sd15-fp32 "${build}/bench/concept_step" --architecture=sd15 \
  --device=cuda --compute_dtype=fp32 --out="${out}/concept_step-sd15-fp32" \
  --batches=1,4 --steps=15 --warmup=5 --samples=2
# The continual benchmark's path on the device (3 mixed concepts, STAMINA
# and C-LoRA), against the oracle carried from here.
if [[ -e "${carry}/oracle-6000-r1.safetensors" ]]; then
  step bench-continual-cuda "${build}/bench/continual" --device=cuda --family=mixed \
    --concepts=3 --methods=stamina-project+rms+init,clora-init --samples=4 --timing_repeats=2 \
    --oracle="${carry}/oracle-6000-r1.safetensors" --base_model="${workspace}/models/stamina-tiny-v1" \
    --threads=8 --out="${out}/continual-cuda"
fi
diffusers_tar="$(ls "${carry}"/diffusers-*-src.tar.gz 2>/dev/null | head -1)"
if [[ -n "${diffusers_tar}" ]]; then
  mkdir -p "${build}/peers" && tar xzf "${diffusers_tar}" -C "${build}/peers"
  step eager-unet python3 "${workspace}/tools/gpu/eager_unet.py" \
    --diffusers="$(ls -d "${build}"/peers/diffusers-*/src)" --out="${out}/eager"
fi
kill "${smi}" 2>/dev/null
# The like-for-like ratio: our UNet-only step (bench:concept_step) against
# PyTorch eager's (eager_unet.py), same batch sizes, same run.
python3 - "${out}" >> "${summary}" 2>&1 <<'PY' || true
import json, sys
out = sys.argv[1]
ours = json.load(open(f"{out}/concept_step-sd15-bf16/concept_step.json"))["unet_step"]
eager = {r["batch"]: r["ms_per_step"] / 1000 for r in json.load(open(f"{out}/eager/eager_unet.json"))["training"]}
for row in ours:
    if row["batch"] in eager:
        print(f"unet step batch {row['batch']}: ours {row['seconds_per_step']:.4f} s, eager "
              f"{eager[row['batch']]:.4f} s, eager/ours {eager[row['batch']] / row['seconds_per_step']:.2f}x, "
              f"{row['tflops']:.1f} TFLOP/s ({100 * row['fraction_of_peak']:.1f}% of peak)")
PY
cp -r "${build}/CMakeCache.txt" "${out}/" 2>/dev/null
echo "summary:"
cat "${summary}"
