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
// Bounded: a request's size is checked against its base model (at most twice
// the native side) and its working memory estimated
// (core/pipelines/sampling_memory.h) before anything is built; it then
// waits for a slot and that much of the sampling memory budget in a fair
// per-tenant queue (sampler/sample_admission.h), reporting its place as
// SAMPLE_PHASE_QUEUED progress, and is refused as busy when the queue is
// full. A cancelled request stops within one denoising step, or leaves the
// queue. Admitted requests denoise on one fixed thread per slot
// (sampler/sampling_threads.h), whichever thread called.
//
// The header is torch-free: app/ composes it without LibTorch
// headers. Thread-safe; concurrent calls share cached models.
#ifndef STAMINA_SAMPLER_IN_PROCESS_SAMPLER_H_
#define STAMINA_SAMPLER_IN_PROCESS_SAMPLER_H_

#include <cstdint>
#include <memory>
#include <optional>
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
class SampleAdmission;
class SamplingThreads;

class InProcessSampler final : public rpc::SampleRouter {
 public:
  struct Options {
    storage::BlobStore* blobs = nullptr;  // not owned
    std::vector<worker::ResolvedBaseModel> base_models;
    // Where the models fold and sample (--device, --compute_dtype). The
    // process has one device: `cache_bytes` bounds the folded weights there.
    worker::DeviceSpec device;
    int64_t cache_bytes = int64_t{1} << 30;
    // Run one denoising step on a freshly built model before it serves.
    bool warm_up = true;
    // Requests sampling at once. Two beat one even when they shared the
    // process's torch threads (bench/results/service and service-slots2, 2
    // cores: 2.2-3.0 images/s against 1.6-1.9 with 2 to 8 clients).
    int slots = 2;
    // Denoise on one fixed thread per slot (sampler/sampling_threads.h);
    // false: on each caller's own thread, as before (bench:service compares).
    bool dedicated_threads = true;
    // Torch intra-op threads of each slot's thread (with dedicated_threads);
    // 0: the process's torch threads split between the slots (at least 1
    // each), so running requests never oversubscribe the cores. On the tiny
    // model two slots of one thread each beat two slots sharing two threads
    // 1.7x in throughput and halve a lone request's latency
    // (bench/results/service-threads, 2 cores).
    int threads_per_slot = 0;
    // Working memory of the requests running at once (beyond the cached
    // models' weights, which `cache_bytes` bounds).
    int64_t memory_budget_bytes = int64_t{2} << 30;
    // Waiting requests, in all and per tenant, before new ones are busy.
    int max_waiting = 32;
    int max_waiting_per_tenant = 8;
  };

  // INVALID_ARGUMENT for a missing blob store, no base models or a
  // non-positive budget.
  static absl::StatusOr<std::unique_ptr<InProcessSampler>> Create(Options options);
  ~InProcessSampler() override;

  absl::Status Sample(const rpc::ModelRecipe& recipe, const rpc::SampleParams& params,
                      rpc::SampleSink& sink) override;

  // Builds (and warms) the recipe's model into the cache without sampling.
  absl::Status Warm(const rpc::ModelRecipe& recipe,
                    const std::function<bool()>& cancelled) override;

  // Folds (or finds) the recipe's model and streams it as a diffusers
  // folder, written to a temporary folder first.
  absl::Status ExportDiffusers(const rpc::ModelRecipe& recipe, bool half_precision,
                               rpc::ExportSink& sink) override;

  rpc::SamplerStats Stats() const override;
  int Forget(const std::vector<std::string>& digests) override;

  // The one device this sampler folds and samples on.
  std::vector<rpc::ComputeDeviceReport> Devices() const override { return {device_}; }

  // The ids of the base models it serves.
  std::vector<std::string> BaseModelIds() const;

  std::optional<rpc::BaseModelSampling> SamplingOf(const std::string& base_model_id) const override;

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
  InProcessSampler(Options options, rpc::ComputeDeviceReport device,
                   std::unique_ptr<worker::BaseModelLibrary> library,
                   std::unique_ptr<FoldedModelCache> cache,
                   std::unique_ptr<SampleAdmission> admission,
                   std::unique_ptr<SamplingThreads> threads);

  const Options options_;
  const rpc::ComputeDeviceReport device_;
  const std::unique_ptr<worker::BaseModelLibrary> library_;
  const std::unique_ptr<FoldedModelCache> cache_;
  const std::unique_ptr<SampleAdmission> admission_;
  // One per slot: admitted requests denoise there, not on the caller's thread.
  const std::unique_ptr<SamplingThreads> threads_;
};

}  // namespace stamina::sampler

#endif  // STAMINA_SAMPLER_IN_PROCESS_SAMPLER_H_
