// File: rpc/sample_router.h
//
// SampleRouter: where the public Sample RPC sends its work, gRPC-free and
// torch-free so the front end never links LibTorch code into its handlers.
// The handler validates the request, resolves the version to a ModelRecipe
// (base model + the lineage's adapter digests, oldest first, and the tokens
// the version knows) and hands it to a router: the in-process sampler of the
// embedded staminad (sampler/in_process_sampler.h), or the client of remote
// sampler replicas (stamina.internal.v1.SamplerBackend) with a stable
// model→replica mapping (server/remote_sample_router.h).
//
// Implementations are thread-safe; the sink is used by one call only.
#ifndef STAMINA_RPC_SAMPLE_ROUTER_H_
#define STAMINA_RPC_SAMPLE_ROUTER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace stamina::rpc {

// What a version is made of. Versions are immutable, so the recipe (base
// digest + adapter digests) identifies the folded weights.
struct ModelRecipe {
  std::string tenant_id;
  std::string model_id;
  std::optional<int64_t> version;  // nullopt: the base model
  std::string base_model_id;
  std::string base_model_digest;
  std::vector<std::string> adapter_digests;  // oldest first
  std::vector<std::string> tokens;           // in the same order
};

// A validated request with the defaults applied.
struct SampleParams {
  std::string prompt;
  std::string negative_prompt;
  int count = 1;
  int steps = 25;
  float guidance_scale = 7.5f;
  int64_t seed = 1;  // image i uses seed + i
  int width = 0;     // 0: the base model's native size
  int height = 0;
  std::string sampler = "ddim";  // "ddim", "pndm" or "euler"
};

// Numbering as stamina.v1.SamplePhase.
enum class SamplePhase : int { kLoading = 1, kDenoising = 2, kDecoding = 3, kQueued = 4 };

struct SampledImage {
  int index = 0;
  std::string png;
  int width = 0;
  int height = 0;
  int64_t seed = 0;
};

// Receives one call's progress and images, in order.
class SampleSink {
 public:
  virtual ~SampleSink() = default;
  // True once the caller went away or its deadline passed.
  virtual bool Cancelled() = 0;
  virtual void Progress(SamplePhase phase, int step, int total_steps) = 0;
  // A non-OK status stops the call with that status.
  virtual absl::Status Image(const SampledImage& image) = 0;
};

// The sampler behind a router (for metrics): its folded-model cache and its
// admission queue.
struct SamplerStats {
  int64_t hits = 0;
  int64_t misses = 0;
  int64_t evictions = 0;
  int64_t bytes = 0;
  int64_t entries = 0;
  int running = 0;              // requests sampling now
  int waiting = 0;              // requests queued for a slot or memory
  int64_t working_bytes = 0;    // sampling memory reserved by the running ones
  int64_t refused_busy = 0;     // requests refused because the queue was full
};

// A device that trains or samples, as its process describes it
// (stamina.v1.ComputeDevice without the count).
struct ComputeDeviceReport {
  std::string role;           // kTrainingRole or kSamplingRole
  std::string device;         // "cpu", "cuda:0"
  std::string description;    // e.g. "2 cores" or the GPU's name
  int64_t memory_bytes = 0;   // device memory; 0 when unknown
  std::string compute_dtype;  // "fp32", "bf16", "fp16"

  friend bool operator<(const ComputeDeviceReport& a, const ComputeDeviceReport& b) {
    return std::tie(a.role, a.device, a.description, a.memory_bytes, a.compute_dtype) <
           std::tie(b.role, b.device, b.description, b.memory_bytes, b.compute_dtype);
  }
};
inline constexpr char kTrainingRole[] = "training";
inline constexpr char kSamplingRole[] = "sampling";

// What a base model's sampling accepts, where the router knows it.
struct BaseModelSampling {
  int native_side = 0;  // the resolution it was trained at
  int max_side = 0;     // the largest width or height Sample accepts
  // Concept tokens the base model itself knows (an exported model used as a
  // base keeps its concepts' tokens), which prompts may name.
  std::vector<std::string> tokens;
};

// The largest piece of an exported file (ExportFileChunk.data).
inline constexpr int64_t kExportPieceBytes = int64_t{1} << 20;

// Receives one export's files, piece by piece, in order.
class ExportSink {
 public:
  virtual ~ExportSink() = default;
  // True once the caller went away or its deadline passed.
  virtual bool Cancelled() = 0;
  // A piece of file `path` (relative, '/'-separated) of `file_bytes` bytes
  // starting at `offset`. A non-OK status stops the export with it.
  virtual absl::Status Piece(const std::string& path, int64_t offset,
                             absl::string_view data, int64_t file_bytes) = 0;
};

class SampleRouter {
 public:
  virtual ~SampleRouter() = default;

  // The base model's sizes, or nullopt when this router does not know them
  // (remote replicas, an unknown base).
  virtual std::optional<BaseModelSampling> SamplingOf(
      const std::string& /*base_model_id*/) const {
    return std::nullopt;
  }

  // Zeros for routers without a local sampler.
  virtual SamplerStats Stats() const { return {}; }

  // The devices its samplers run on, one per process (the in-process
  // sampler; each remote replica that has answered GetStatus).
  virtual std::vector<ComputeDeviceReport> Devices() const { return {}; }

  // Generates `params.count` images from `recipe`. RESOURCE_EXHAUSTED when
  // the model or the request's working memory does not fit the sampler's
  // budgets, or when the sampler is busy (its queue is full; the message
  // gives a retry hint), CANCELLED when the sink says so (also while the
  // request waits its turn), INVALID_ARGUMENT for parameters the model
  // cannot honour (the message names the field).
  virtual absl::Status Sample(const ModelRecipe& recipe, const SampleParams& params,
                              SampleSink& sink) = 0;

  // Builds the recipe's model where Sample would serve it (folded and warmed
  // up, in the cache) without sampling, so the first request finds it warm;
  // errors as for Sample. While it waits on another process, `cancelled` is
  // asked now and then; true gives up (CANCELLED). A build in this process
  // runs to its end. Routers without a cache do nothing.
  virtual absl::Status Warm(const ModelRecipe& /*recipe*/,
                            const std::function<bool()>& /*cancelled*/) {
    return absl::OkStatus();
  }

  // Drops every cached model folded with any of `digests` (adapters a
  // deletion or an erasure left unreferenced: their weights must not outlive
  // them); returns how many. Other digests are ignored. Routers without a
  // local cache drop nothing (remote replicas: not yet).
  virtual int Forget(const std::vector<std::string>& /*digests*/) { return 0; }

  // Writes the recipe's folded model as a diffusers-layout folder
  // (core/pipelines/diffusers_export.h) to `sink`. FAILED_PRECONDITION for
  // a base model without a diffusers form; RESOURCE_EXHAUSTED and CANCELLED
  // as for Sample. Routers that cannot export: UNIMPLEMENTED.
  virtual absl::Status ExportDiffusers(const ModelRecipe& /*recipe*/,
                                       bool /*half_precision*/, ExportSink& /*sink*/) {
    return absl::UnimplementedError(
        "exporting a folded model runs on the in-process sampler only (not yet on "
        "remote sampler replicas)");
  }
};

}  // namespace stamina::rpc

#endif  // STAMINA_RPC_SAMPLE_ROUTER_H_
