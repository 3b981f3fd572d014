// File: cli/session.h
//
// What every `stamina` command works with: the public API stubs over one
// channel, the API key, the global and per-command options, and the output
// streams. Also the conversion of a finished RPC's grpc::Status into
// absl::Status (the codes are numerically equal) and resource-name helpers.
//
// Not thread-safe; one per CLI invocation.
#ifndef STAMINA_CLI_SESSION_H_
#define STAMINA_CLI_SESSION_H_

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"
#include "stamina/internal/v1/admin.grpc.pb.h"
#include "stamina/v1/concept_service.grpc.pb.h"
#include "stamina/v1/model_service.grpc.pb.h"
#include "stamina/v1/sampler_service.grpc.pb.h"
#include "stamina/v1/training_service.grpc.pb.h"

namespace stamina::cli {

// Per-command switches; each command reads the ones it documents. Zero or
// empty values mean "the server's default".
struct CommandFlags {
  std::string base_model;     // models create --base
  std::string display_name;   // models create --display_name
  std::string caption;        // concepts create --caption
  bool force = false;         // concepts delete --force
  std::string mode;           // concepts erase --mode=replay|drop
  bool skip_invalid = false;  // upload --skip_invalid
  int32_t steps = 0;          // train, sample --steps
  std::string method;         // train --method=stamina|clora|lora
  std::string context;        // train --context=none|project|penalize
  std::string token_initializer;  // train --token_initializer=WORD
  std::string augment;            // train --augment=flip,shift|flip|shift|none
  // train --settings: TrainingSettings in protobuf text format, merged over
  // the flags above (every switch of the API, e.g. "stamina { overlap:
  // MASK_OVERLAP_EXCLUSIVE } context_energy: 0.99").
  std::string settings;
  int64_t seed = 0;           // train, sample --seed
  std::string request_id;     // train, concepts erase --request_id
  bool no_wait = false;       // train, concepts erase --no_wait
  std::string webhook_url;    // train / models create --webhook_url
  bool rotate = false;        // webhooks secret --rotate
  std::string prompt;         // sample --prompt
  int64_t version = 0;        // sample --version (0 = head)
  int32_t count = 0;          // sample --count
  double guidance = 0;        // sample --guidance
  std::string sampler;        // sample --sampler=ddim|pndm|euler (empty: server default)
  std::string out_dir = ".";  // sample, export --out
  std::string format = "diffusers";  // export --format=diffusers|adapters
  bool half = false;                 // export --half
  std::string label;                 // admin keys create --label
  int64_t ttl_hours = 0;             // admin keys create --ttl_hours (0: never expires)
  int keep = 0;                      // admin backup --keep (0: every backup)
};

struct CliOptions {
  // Sent as `authorization: Bearer <api_key>` on every call.
  std::string api_key;
  // Sent instead by the admin commands (an `admin` internal token).
  std::string admin_token;
  // Progress bars rewrite one line (a terminal) or print plain lines.
  bool progress_tty = false;
  // Deadline of each unary call and of each upload; streams that follow a
  // job or a sampling run have none.
  absl::Duration rpc_timeout = absl::Seconds(60);
  // WatchJobRequest.min_interval_ms.
  int32_t watch_interval_ms = 500;
  // How often plain (non-terminal) progress lines may repeat.
  absl::Duration progress_interval = absl::Seconds(2);
  Clock* clock = Clock::Real();  // not owned
  CommandFlags flags;
};

class Session {
 public:
  // `out` gets results, `err` progress bars; both must outlive the session.
  Session(std::shared_ptr<grpc::ChannelInterface> channel, CliOptions options,
          std::ostream& out, std::ostream& err);

  // A context carrying the API key, with the unary deadline when `deadline`.
  std::unique_ptr<grpc::ClientContext> NewContext(bool deadline = true) const;
  // A context carrying the admin token, with the unary deadline.
  std::unique_ptr<grpc::ClientContext> NewAdminContext() const;

  const CliOptions& options() const { return options_; }
  const CommandFlags& flags() const { return options_.flags; }
  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }

  v1::ModelService::StubInterface& models() { return *models_; }
  v1::ConceptService::StubInterface& concepts() { return *concepts_; }
  v1::TrainingService::StubInterface& training() { return *training_; }
  v1::SamplerService::StubInterface& sampler() { return *sampler_; }
  internal::v1::AdminService::StubInterface& admin() { return *admin_; }

 private:
  CliOptions options_;
  std::ostream& out_;
  std::ostream& err_;
  std::unique_ptr<v1::ModelService::StubInterface> models_;
  std::unique_ptr<v1::ConceptService::StubInterface> concepts_;
  std::unique_ptr<v1::TrainingService::StubInterface> training_;
  std::unique_ptr<v1::SamplerService::StubInterface> sampler_;
  std::unique_ptr<internal::v1::AdminService::StubInterface> admin_;
};

// Same code, same message.
absl::Status FromGrpc(const grpc::Status& status);

// `models/{model}`; a full name is returned unchanged.
std::string ModelName(absl::string_view model);
// `models/{model}/{collection}/{id}`; an `id` that already starts with
// `models/` is returned unchanged.
std::string ChildName(absl::string_view model, absl::string_view collection,
                      absl::string_view id);

}  // namespace stamina::cli

#endif  // STAMINA_CLI_SESSION_H_
