// File: server/erasure_prover.h
//
// ErasureProver: the proof of erasure a tenant is shown (docs/api.md,
// ConceptService.EraseConcept). For the erased concept's prompt ("a photo of
// <token>") it measures how far a model version draws from the base model:
// the RMS pixel drift of the same seeds sampled from both (the score of
// CompareVersions, server/version_comparison.h). EraseConcept measures the
// head before the erasure, synchronously (Drift); when the replay job that
// finishes an erasure commits, the front end queues its version here and one
// background thread measures it and records the drift after. A concept the
// new head does not draw any more drifts from the base model no more than
// any text the base model reads.
//
// gRPC- and torch-free. Thread-safe; Stop() (or the destructor) drops what is
// queued and waits for the measurement in progress.
#ifndef STAMINA_SERVER_ERASURE_PROVER_H_
#define STAMINA_SERVER_ERASURE_PROVER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "rpc/sample_router.h"
#include "storage/erasure_store.h"

namespace stamina::server {

class ErasureProver {
 public:
  struct Options {
    rpc::SampleRouter* router = nullptr;        // not owned
    storage::ErasureStore* erasures = nullptr;  // not owned
    // A version's recipe (nullopt: the model's head), RecipeOf over the
    // registry (server/sample_request.h).
    std::function<absl::StatusOr<rpc::ModelRecipe>(
        const std::string& tenant, const std::string& model, std::optional<int64_t> version)>
        recipe_of;
    // How the prompt is sampled (its prompt field is ignored): a few images
    // with fixed seeds.
    rpc::SampleParams params;
    // One line per measurement after a replay; may be empty.
    std::function<void(const std::string&)> log;
  };

  // INVALID_ARGUMENT without a router, erasure store or recipe_of. Starts
  // the thread.
  static absl::StatusOr<std::unique_ptr<ErasureProver>> Create(Options options);
  ~ErasureProver();

  // "a photo of <token>".
  static std::string PromptFor(const std::string& token);

  // The drift of `version` (nullopt: the head) from the base model on
  // `prompt`. FAILED_PRECONDITION when the model has no version to measure.
  absl::StatusOr<double> Drift(const std::string& tenant, const std::string& model,
                               std::optional<int64_t> version, const std::string& prompt,
                               std::function<bool()> cancelled) const;

  // A replay job of `erasure_id` committed `version`: once the erasure has
  // SUCCEEDED, the version's drift is recorded as the drift after. Returns
  // at once; ignored after Stop().
  void Enqueue(const std::string& tenant, const std::string& model, const std::string& erasure_id,
               int64_t version);

  // Drops the queue and waits for the thread. Idempotent.
  void Stop();

  // Queued items handled so far (measured, skipped or failed).
  int64_t finished() const;
  // Blocks until `count` items were handled or `timeout` passed; true in the
  // first case. For tests: an event, not a sleep.
  bool AwaitFinished(int64_t count, absl::Duration timeout) const;

 private:
  struct Replayed {
    std::string tenant;
    std::string model;
    std::string erasure_id;
    int64_t version = 0;
  };
  explicit ErasureProver(Options options) : options_(std::move(options)) {}
  void Run();
  void Measure(const Replayed& item);

  const Options options_;
  mutable absl::Mutex mu_;
  std::deque<Replayed> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t finished_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace stamina::server

#endif  // STAMINA_SERVER_ERASURE_PROVER_H_
