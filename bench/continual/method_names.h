// File: bench/continual/method_names.h
//
// The methods the benchmarks compare, by name: "stamina", "clora", "lora",
// each optionally followed by '-' and switches joined by '+' (e.g.
// "stamina-project+rms", the service's default recipe): nomask, direct,
// soft, clora, half (STAMINA ablations); noctx, project, penalize (context
// preservation); free, exclusive, overlap (mask overlap); rms, rmsX, norms
// (token max rms); noflip, noshift (augmentation); init (class-word tokens);
// early, earlyX (early stopping on the concept's own loss below a 2% / X%
// gain); warmup, warmupF (sparsity schedule over 0.5 / F of the steps), hat,
// nosparsity (sparsity kind); rankN, vrankN, krankN (rank of every / the
// to_v / the to_k layers); mlpN (token MLP width); q, out (also adapt
// attn2.to_q / attn2.to_out.0).
// Thread-safe: pure functions.
#ifndef STAMINA_BENCH_CONTINUAL_METHOD_NAMES_H_
#define STAMINA_BENCH_CONTINUAL_METHOD_NAMES_H_

#include <string>

#include "absl/status/statusor.h"
#include "bench/continual/continual_run.h"

namespace stamina::bench {

// The numbers every method starts from (the benchmarks' flags).
struct MethodDefaults {
  int steps = 150;
  int batch = 4;
  double lora_lr = 2e-3;
  double mask_lr = 2e-2;
  double token_lr = 1e-2;
  int rank = 4;
  double clora_lambda = 1e3;
  double sparsity_weight = 1e-2;
  double context_energy = 0.999;
  double context_weight = 1.0;
};

// INVALID_ARGUMENT naming an unknown method or switch.
absl::StatusOr<MethodSpec> MethodFromName(const std::string& name, const MethodDefaults& defaults);

}  // namespace stamina::bench

#endif  // STAMINA_BENCH_CONTINUAL_METHOD_NAMES_H_
