#!/usr/bin/env bash
# The one script for the GPU machine (issue #19): builds the project with
# CMake against the PyTorch wheel's CUDA LibTorch, runs the requires-gpu
# tests and the CPU tests of the device plumbing, then the GPU benchmarks
# that exist, writing everything under $OUT (default ./gpu-out).
#
# Here first:  tools/gpu/prepare.sh                 (gpu-carry/, git-ignored)
# Then there:  device run, carry ["gpu-carry"], command "tools/gpu/run.sh"
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
diffusers_tar="$(ls "${carry}"/diffusers-*-src.tar.gz 2>/dev/null | head -1)"
if [[ -n "${diffusers_tar}" ]]; then
  mkdir -p "${build}/peers" && tar xzf "${diffusers_tar}" -C "${build}/peers"
  step eager-unet python3 "${workspace}/tools/gpu/eager_unet.py" \
    --diffusers="$(ls -d "${build}"/peers/diffusers-*/src)" --out="${out}/eager"
fi
kill "${smi}" 2>/dev/null
cp -r "${build}/CMakeCache.txt" "${out}/" 2>/dev/null
echo "summary:"
cat "${summary}"
