// File: server/version_comparison.h
//
// The gRPC-free half of CompareVersions and of the proof of erasure: which
// prompts compare two versions when the caller names none, how far two sets
// of sampled images moved (root-mean-square pixel difference), and one
// prompt sampled from two recipes with the same seeds through a SampleRouter.
// Thread-safe: functions of their arguments (and the thread-safe router).
#ifndef STAMINA_SERVER_VERSION_COMPARISON_H_
#define STAMINA_SERVER_VERSION_COMPARISON_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rpc/sample_router.h"

namespace stamina::server {

inline constexpr int kMaxComparisonPrompts = 8;
inline constexpr int kMaxComparisonImages = 4;
inline constexpr int kDefaultComparisonImages = 2;

struct ComparisonPrompt {
  std::string prompt;
  std::string token;  // the token it was made for; "" for the caller's own
};

// "a photo of <token>" for each token of `a`, then each of `b` not in `a`,
// at most kMaxComparisonPrompts.
std::vector<ComparisonPrompt> DefaultComparisonPrompts(const std::vector<std::string>& tokens_a,
                                                       const std::vector<std::string>& tokens_b);

// Mean over i of the RMS difference of PNG images a[i] and b[i] (channels in
// [0, 1]). INVALID_ARGUMENT when the counts or sizes differ or a PNG does not
// decode.
absl::StatusOr<double> PixelDrift(const std::vector<std::string>& pngs_a,
                                  const std::vector<std::string>& pngs_b);

struct SampledPair {
  std::vector<rpc::SampledImage> a;
  std::vector<rpc::SampledImage> b;
  double drift = 0;  // PixelDrift of a and b
};

// Samples `params` from recipe `a`, then `b` (the same seeds), through
// `router`; stops when `cancelled` returns true.
absl::StatusOr<SampledPair> SamplePair(rpc::SampleRouter& router, const rpc::ModelRecipe& a,
                                       const rpc::ModelRecipe& b, const rpc::SampleParams& params,
                                       std::function<bool()> cancelled);

}  // namespace stamina::server

#endif  // STAMINA_SERVER_VERSION_COMPARISON_H_
