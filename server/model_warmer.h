// File: server/model_warmer.h
//
// ModelWarmer: a new model version is built where it will be served before
// its first user asks for it. When a training job commits a version (the
// in-process worker slots and the remote WorkQueue alike), the front end
// queues it here; one background thread resolves its recipe through the
// registry and calls SampleRouter::Warm (the in-process sampler folds it and
// runs its one-step warm-up into its cache; the remote router asks the
// model's replica to do the same). Best effort: a failure is logged and
// changes nothing else; the first Sample then builds the model as before. A
// newer version of the same model queued before an older one started
// replaces it.
//
// gRPC- and torch-free. Thread-safe; Stop() (or the destructor) drops what is
// queued and ends the warm-up in progress: a remote one is abandoned (the
// router polls the stop), an in-process build runs to its end.
#ifndef STAMINA_SERVER_MODEL_WARMER_H_
#define STAMINA_SERVER_MODEL_WARMER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "rpc/sample_router.h"

namespace stamina::server {

class ModelWarmer {
 public:
  // A committed version, as the registry names it.
  struct Version {
    std::string tenant_id;
    std::string model_id;
    int64_t version = 0;
  };
  struct Options {
    rpc::SampleRouter* router = nullptr;  // not owned
    // The version's recipe (server/sample_request.h RecipeOf over the
    // registry).
    std::function<absl::StatusOr<rpc::ModelRecipe>(const Version&)> recipe_of;
    // One line per warm-up; may be empty.
    std::function<void(const std::string&)> log;
  };

  // INVALID_ARGUMENT without a router or recipe_of. Starts the thread.
  static absl::StatusOr<std::unique_ptr<ModelWarmer>> Create(Options options);
  ~ModelWarmer();

  // Queues `version` and returns at once; ignored after Stop().
  void Enqueue(Version version);

  // Drops the queue, abandons a remote warm-up in progress and waits for the
  // thread. Idempotent.
  void Stop();

  // Warm-ups finished so far (succeeded or failed; dropped ones excluded).
  int64_t finished() const;
  // Blocks until `count` warm-ups finished or `timeout` passed; true in the
  // first case. For tests and admin tools: an event, not a sleep.
  bool AwaitFinished(int64_t count, absl::Duration timeout) const;

 private:
  explicit ModelWarmer(Options options) : options_(std::move(options)) {}
  void Run();
  void WarmOne(const Version& version);

  const Options options_;
  mutable absl::Mutex mu_;
  std::deque<Version> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t finished_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace stamina::server

#endif  // STAMINA_SERVER_MODEL_WARMER_H_
