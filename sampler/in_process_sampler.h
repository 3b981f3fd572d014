// File: sampler/in_process_sampler.h
//
// InProcessSampler: the embedded staminad's SampleRouter. It builds the
// recipe's folded model (base model + adapter artifacts read from the blob
// store, folded in order; each fold registers its concept token with the
// tokenizer, so one prompt may name several concepts) into an LRU cache
// under a byte budget, warms it up with a one-step generation before it
// serves, then runs DDIM with classifier-free guidance, reporting progress,
// and returns PNGs.
//
// The header is torch-free: app/ composes it without LibTorch
// headers. Thread-safe; concurrent calls share cached models.
#ifndef STAMINA_SAMPLER_IN_PROCESS_SAMPLER_H_
#define STAMINA_SAMPLER_IN_PROCESS_SAMPLER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rpc/sample_router.h"
#include "storage/blob_store.h"
#include "worker/base_model_spec.h"

namespace stamina::worker {
class BaseModelLibrary;
}  // namespace stamina::worker

namespace stamina::sampler {

class FoldedModelCache;

class InProcessSampler final : public rpc::SampleRouter {
 public:
  struct Options {
    storage::BlobStore* blobs = nullptr;  // not owned
    std::vector<worker::ResolvedBaseModel> base_models;
    int64_t cache_bytes = int64_t{1} << 30;
    // Run one denoising step on a freshly built model before it serves.
    bool warm_up = true;
  };

  // INVALID_ARGUMENT for a missing blob store, no base models or a
  // non-positive budget.
  static absl::StatusOr<std::unique_ptr<InProcessSampler>> Create(Options options);
  ~InProcessSampler() override;

  absl::Status Sample(const rpc::ModelRecipe& recipe,
                      const rpc::SampleParams& params,
                      rpc::SampleSink& sink) override;

  // Builds (and warms) the recipe's model into the cache without sampling.
  absl::Status Warm(const rpc::ModelRecipe& recipe,
                    const std::function<bool()>& cancelled) override;

  rpc::SampleCacheStats CacheStats() const override;

  // What identifies a recipe's folded weights in the cache (recipes of
  // different models with the same base and adapters share an entry).
  static std::string CacheKey(const rpc::ModelRecipe& recipe);
  bool IsCached(const rpc::ModelRecipe& recipe) const;

  // The cached models, most recently used first.
  struct CachedModel {
    std::string key;  // CacheKey() of its recipes
    int64_t bytes = 0;
  };
  std::vector<CachedModel> CachedModels() const;
  int64_t cache_budget_bytes() const { return options_.cache_bytes; }

 private:
  InProcessSampler(Options options, std::unique_ptr<worker::BaseModelLibrary> library,
                   std::unique_ptr<FoldedModelCache> cache);

  const Options options_;
  const std::unique_ptr<worker::BaseModelLibrary> library_;
  const std::unique_ptr<FoldedModelCache> cache_;
};

}  // namespace stamina::sampler

#endif  // STAMINA_SAMPLER_IN_PROCESS_SAMPLER_H_
