// continual: the continual-personalization benchmark (issue #4; method.md
// §7, §11). Learns N reserved identities of the synthetic world one after
// another with each method and scores them with the attribute oracle:
//
//   bazel run -c opt //bench:continual -- --methods=stamina,clora,lora
//       --concepts=50 --out=DIR [--family=faces|landmarks|mixed] [--seed=S]
//
// Writes DIR/continual.json, DIR/continual.md (the paper-shaped table),
// DIR/plasticity.png (P_t = R[t][t] against t, one line per method) and
// DIR/samples.png (rows = methods, columns = concepts, after the last task).
// The oracle is read from --oracle, or trained (deterministically) and saved
// there when the file does not exist. Resumable: every finished task is
// recorded under DIR/progress/, and rerunning the same command continues
// where it stopped.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/continual/concept_scoring.h"
#include "bench/continual/concept_sequence.h"
#include "bench/continual/continual_report.h"
#include "bench/continual/continual_run.h"
#include "bench/continual/method_names.h"
#include "bench/oracle_file.h"
#include "common/process.h"
#include "core/compute_device.h"
#include "core/torch_runtime.h"

ABSL_FLAG(std::string, methods, "stamina,clora,lora",
          "Comma-separated: stamina, clora, lora, each optionally with switches after '-' "
          "joined by '+': nomask, direct, soft, clora, half (STAMINA ablations); noctx, "
          "project, penalize (context preservation, any method); free, exclusive, overlap "
          "(mask overlap); rms, rmsX, norms (token max rms 2 / X / unbounded); noflip, noshift "
          "(no flip / shift augmentation); init (tokens start from their class word); early, "
          "earlyX (stop on the concept's own loss below a 2% / X% gain); warmup, warmupF "
          "(sparsity schedule over 0.5 / F of the steps); hat, nosparsity; rankN, vrankN, krankN "
          "(rank of all / to_v / to_k layers); mlpN (token MLP width); q, out (also adapt "
          "attn2.to_q / to_out.0). E.g. stamina-project+exclusive");
ABSL_FLAG(std::string, device, "auto",
          "Where the methods train, fold and sample: auto, cpu, cuda, cuda:N (the oracle scores on "
          "the CPU)");
ABSL_FLAG(std::string, compute_dtype, "auto",
          "auto (bf16 on CUDA, fp32 on the CPU), fp32, bf16, "
          "fp16");
ABSL_FLAG(int, concepts, 10, "Concepts learned one after another");
ABSL_FLAG(std::string, family, "faces",
          "faces, landmarks, mixed, or demo / demo-reversed (the README demo's pair)");
ABSL_FLAG(uint64_t, seed, 0, "Benchmark seed (identities, renders, training)");
ABSL_FLAG(std::string, out, "/tmp/stamina-continual", "Output directory");
ABSL_FLAG(std::string, base_model, "models/stamina-tiny-v1", "Base model directory");
ABSL_FLAG(
    std::string, oracle, "",
    "Oracle file (default: the machine's cache, ~/.cache/stamina/oracle-STEPS-rN.safetensors; "
    "trained there first when absent)");
ABSL_FLAG(int, oracle_steps, stamina::bench::kDefaultOracleSteps,
          "Steps when the oracle has to be trained");
ABSL_FLAG(int, steps, 150, "Training steps per concept");
ABSL_FLAG(int, batch, 4, "Images per training step");
ABSL_FLAG(double, lora_lr, 2e-3, "LoRA factors' learning rate");
ABSL_FLAG(double, mask_lr, 2e-2, "STAMINA mask MLP's learning rate");
ABSL_FLAG(double, token_lr, 1e-2, "Token learning rate");
ABSL_FLAG(int, rank, 4, "LoRA rank");
ABSL_FLAG(double, clora_lambda, 1e3, "C-LoRA's lambda");
ABSL_FLAG(double, sparsity_weight, 1e-2, "STAMINA's gamma");
ABSL_FLAG(double, context_energy, 0.999,
          "Energy share of the preserved outputs kept off limits (context = project)");
ABSL_FLAG(double, context_weight, 1.0, "Weight of the context penalty (context = penalize)");
ABSL_FLAG(int, eval_every, 10, "Score every learned concept every this many tasks");
ABSL_FLAG(int, samples, 8, "Samples per scored concept");
ABSL_FLAG(int, sample_steps, 20, "DDIM steps per sample");
ABSL_FLAG(double, guidance, 5.0, "Classifier-free guidance scale");
ABSL_FLAG(int, timing_repeats, 5,
          "Repeats of the sampling-cost measurement (folded vs base); 0 skips it");
ABSL_FLAG(double, drift_budget, 0.2,
          "The service's forgetting metric after every task with this budget (its default); 0 "
          "leaves it out");
ABSL_FLAG(int, threads, stamina::core::kIdleCoreThreads,
          "LibTorch threads; -1 (default) = the idle cores at start (cores minus the 1-minute load "
          "average, at least 1: threads sharing a core with a busy process slow down badly); 0 = "
          "all cores");

namespace stamina::bench {
namespace {

MethodDefaults DefaultsFromFlags() {
  return {.steps = absl::GetFlag(FLAGS_steps),
          .batch = absl::GetFlag(FLAGS_batch),
          .lora_lr = absl::GetFlag(FLAGS_lora_lr),
          .mask_lr = absl::GetFlag(FLAGS_mask_lr),
          .token_lr = absl::GetFlag(FLAGS_token_lr),
          .rank = absl::GetFlag(FLAGS_rank),
          .clora_lambda = absl::GetFlag(FLAGS_clora_lambda),
          .sparsity_weight = absl::GetFlag(FLAGS_sparsity_weight),
          .context_energy = absl::GetFlag(FLAGS_context_energy),
          .context_weight = absl::GetFlag(FLAGS_context_weight)};
}

int Run() {
  const std::string out = stamina::WorkspacePath(absl::GetFlag(FLAGS_out));
  if (std::system(("mkdir -p '" + out + "'").c_str()) != 0) return 1;
  auto runtime = core::ConfigureTorchRuntime({.threads = absl::GetFlag(FLAGS_threads)});
  if (!runtime.ok()) {
    std::fprintf(stderr, "%s\n", runtime.status().ToString().c_str());
    return 1;
  }
  auto compute =
      core::ParseComputeOptions(absl::GetFlag(FLAGS_device), absl::GetFlag(FLAGS_compute_dtype));
  if (!compute.ok()) {
    std::fprintf(stderr, "--device/--compute_dtype: %s\n", compute.status().ToString().c_str());
    return 2;
  }
  std::vector<MethodSpec> methods;
  for (const std::string& name : std::vector<std::string>(
           absl::StrSplit(absl::GetFlag(FLAGS_methods), ',', absl::SkipEmpty()))) {
    auto method = MethodFromName(name, DefaultsFromFlags());
    if (!method.ok()) {
      std::fprintf(stderr, "%s\n", method.status().ToString().c_str());
      return 2;
    }
    methods.push_back(*method);
  }
  std::string oracle_path = stamina::WorkspacePath(absl::GetFlag(FLAGS_oracle));
  if (oracle_path.empty()) {
    oracle_path = OracleCachePath(absl::GetFlag(FLAGS_oracle_steps));
  }
  auto oracle = LoadOrTrainOracle(oracle_path, absl::GetFlag(FLAGS_oracle_steps));
  auto concepts = BuildConceptSequence(absl::GetFlag(FLAGS_family), absl::GetFlag(FLAGS_concepts),
                                       absl::GetFlag(FLAGS_seed));
  if (!oracle.ok() || !concepts.ok()) {
    std::fprintf(stderr, "%s %s\n", oracle.status().ToString().c_str(),
                 concepts.status().ToString().c_str());
    return 1;
  }
  auto scorer = ConceptScorer::Create(oracle->get(), &*concepts,
                                      {.count = absl::GetFlag(FLAGS_samples),
                                       .steps = absl::GetFlag(FLAGS_sample_steps),
                                       .guidance = static_cast<float>(absl::GetFlag(FLAGS_guidance)),
                                       .seed = 1234});
  if (!scorer.ok()) {
    std::fprintf(stderr, "%s\n", scorer.status().ToString().c_str());
    return 1;
  }
  ContinualRunOptions options{
      .base_model_dir = stamina::WorkspacePath(absl::GetFlag(FLAGS_base_model)),
      .eval_every = absl::GetFlag(FLAGS_eval_every),
      .timing_repeats = absl::GetFlag(FLAGS_timing_repeats),
      .seed = absl::GetFlag(FLAGS_seed),
      .progress_dir = out + "/progress",
      .family = absl::GetFlag(FLAGS_family),
      .drift_budget = absl::GetFlag(FLAGS_drift_budget),
      .compute = *compute};
  ReportContext context;
  context.machine = MachineDescription(*runtime);
  if (!compute->device.is_cpu() || compute->compute_dtype != torch::kFloat32) {
    context.machine += "; methods on " + core::DeviceName(compute->device) + ", compute " +
                       core::ComputeDtypeName(compute->compute_dtype);
  }
  context.family = absl::GetFlag(FLAGS_family);
  context.concepts = absl::GetFlag(FLAGS_concepts);
  context.seed = absl::GetFlag(FLAGS_seed);
  context.base_model = absl::GetFlag(FLAGS_base_model);
  auto reference = ScoreBaseReference(options.base_model_dir, *concepts, *scorer);
  if (!reference.ok()) {
    std::fprintf(stderr, "%s\n", reference.status().ToString().c_str());
    return 1;
  }
  context.reference = *reference;
  std::vector<MethodResult> results;
  for (const MethodSpec& method : methods) {
    auto result = RunMethod(method, *concepts, *scorer, options,
                            [](const std::string& line) {
                              std::fprintf(stderr, "%s\n", line.c_str());
                            });
    if (!result.ok()) {
      std::fprintf(stderr, "%s: %s\n", method.label.c_str(), result.status().ToString().c_str());
      return 1;
    }
    results.push_back(std::move(*result));
    // Written after every method, so a long run leaves its finished part.
    if (absl::Status written = WriteContinualReport(out, context, results); !written.ok()) {
      std::fprintf(stderr, "%s\n", written.ToString().c_str());
      return 1;
    }
  }
  std::printf("%s", ReportMarkdown(context, results).c_str());
  return 0;
}

}  // namespace
}  // namespace stamina::bench

int main(int argc, char** argv) {
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  // As it would be typed: the binary is named by its Bazel label.
  std::string command_line = "bazel run -c opt //bench:continual --";
  for (int i = 1; i < argc; ++i) command_line += std::string(" ") + argv[i];
  stamina::bench::SetCommandLine(command_line);
  return stamina::bench::Run();
}
