// File: server/service_context.h
//
// What every stamina.v1 handler needs: the stores, the blob store, the
// authenticator, time, ids and the deployment's limits; plus the helpers that
// turn a grpc::ServerContext into a tenant and paginate in memory.
// Everything is borrowed (not owned) and must outlive the services.
#ifndef STAMINA_SERVER_SERVICE_CONTEXT_H_
#define STAMINA_SERVER_SERVICE_CONTEXT_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/ids.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "grpcpp/server_context.h"
#include "rpc/sample_router.h"
#include "server/auth.h"
#include "server/blob_grants.h"
#include "server/call_limits.h"
#include "server/device_directory.h"
#include "server/page_tokens.h"
#include "storage/blob_gc.h"
#include "storage/blob_store.h"
#include "storage/erasure_store.h"
#include "storage/job_change_feed.h"
#include "storage/job_store.h"
#include "storage/lineage_store.h"
#include "storage/model_store.h"
#include "storage/sha256.h"
#include "storage/tenant_store.h"
#include "storage/webhook_outbox.h"

namespace stamina::server {

class ErasureProver;  // server/erasure_prover.h

// Limits published by GetCapabilities and enforced by the handlers.
struct ServiceLimits {
  int min_images_per_concept = 3;
  int max_images_per_concept = 100;
  int64_t max_image_bytes = 10 << 20;
  int64_t max_image_pixels = 4096 * 4096;
  int min_image_side = 32;
  int64_t max_upload_bytes = 200 << 20;
  int max_queued_jobs_per_tenant = 50;
  int max_concepts_per_model = 200;
  int max_models_per_tenant = 100;
  // Images plus adapter artifacts one tenant may hold (storage/sqlite_model_store.h).
  int64_t max_stored_bytes_per_tenant = int64_t{10} << 30;
  int min_training_steps = 1;
  int max_training_steps = 20000;
  int min_sample_steps = 1;
  int max_sample_steps = 200;
  int max_images_per_sample = 16;
  int min_sample_side = 8;
  int max_sample_side = 1024;
  float max_guidance_scale = 30;
  int max_prompt_length = 1000;
  int max_display_name_length = 128;
  // Long calls open at once (server/call_limits.h): per tenant (published)
  // and for the whole process.
  CallLimits::Options concurrent_calls;
};

struct ServiceContext {
  storage::TenantStore* tenants = nullptr;
  storage::ModelStore* models = nullptr;
  storage::LineageStore* lineage = nullptr;
  storage::ErasureStore* erasures = nullptr;
  // The sampler (in-process or remote replicas); null where there is none.
  // Deletions make it forget folded models of the adapters they freed.
  rpc::SampleRouter* sampler = nullptr;
  // Measures the proof of erasure; null where there is no sampler.
  ErasureProver* erasure_prover = nullptr;
  storage::JobStore* jobs = nullptr;
  storage::BlobStore* blobs = nullptr;
  // Pins digests across an upload's store + row, and deletes freed blobs.
  storage::BlobCollector* blob_collector = nullptr;
  Authenticator* auth = nullptr;
  CallLimits* calls = nullptr;
  // Bumped on every job change; WatchJob waits on it instead of polling.
  storage::JobChangeFeed* job_changes = nullptr;
  // The blobs each sampler replica may read back (RemoteSampleRouter grants
  // them, the internal BlobService checks them).
  BlobGrants* blob_grants = nullptr;
  // The training devices workers report (GetCapabilities, metrics).
  DeviceDirectory* devices = nullptr;
  // Tenants' webhook secrets (the outbox itself fills with job changes);
  // null: webhooks are off (the secret RPCs are UNIMPLEMENTED).
  storage::WebhookOutbox* webhooks = nullptr;
  // Webhook URLs may name loopback, link-local and private targets.
  bool webhook_allow_private_targets = false;
  Clock* clock = nullptr;
  IdGenerator* ids = nullptr;
  ServiceLimits limits;
  // How long WatchJob waits for a job change before it re-reads the job
  // anyway (and asks whether its client is still there).
  absl::Duration watch_poll_interval = absl::Seconds(1);
  std::string server_version = "0.1.0";
  // Called after a job committed its version (in-process worker slots and
  // the WorkQueue alike), with the job as leased and the new version; may be
  // empty. The front end records the attempt's training seconds and queues
  // the version's warm-up here; it must return at once.
  std::function<void(const storage::JobRecord&, const storage::VersionRecord&)>
      on_job_succeeded;
};

// The caller's tenant, from `authorization` metadata.
absl::StatusOr<std::string> TenantOf(const ServiceContext& context,
                                     const grpc::ServerContext* call);

// The caller's tenant and API key, from `authorization` metadata.
absl::StatusOr<Authenticator::Caller> CallerOf(const ServiceContext& context,
                                               const grpc::ServerContext* call);

// `status`, a failed lookup of version `version` of a model, explained when an
// erasure removed that version: NOT_FOUND naming the erasure and its concept.
absl::Status ExplainErasedVersion(const ServiceContext& context, const std::string& tenant,
                                  const std::string& model_id, int64_t version,
                                  absl::Status status);

// Deletes blobs a cascading delete left unreferenced, unless a concurrent
// upload of the same bytes references them again (storage/blob_gc.h), and
// makes the sampler forget every folded model built with them. Best effort:
// a file that survives is found by the blob sweep later.
void DeleteUnreferencedBlobs(const ServiceContext& context,
                             const std::vector<std::string>& digests);

// The SHA-256 of a create request's content, its request_id excluded
// (deterministic serialization): what an idempotency key is bound to.
template <typename Request>
std::string RequestDigest(Request request) {
  request.clear_request_id();
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  request.SerializeToCodedStream(&coded);
  coded.Trim();
  return storage::Sha256Hex(bytes);
}

// One page of `items` for list methods whose store returns everything: the
// cursor is the offset, carried in a page token bound to `request` and
// `scope` (server/page_tokens.h); sets the response's next page token.
// INVALID_ARGUMENT for bad sizes and tokens.
template <typename T, typename Request>
absl::StatusOr<std::vector<T>> PageOf(std::vector<T> items, const Request& request,
                                      absl::string_view scope, std::string* next_page_token) {
  if (request.page_size() < 0) {
    return absl::InvalidArgumentError("page_size: must be >= 0");
  }
  const size_t size = request.page_size() == 0 ? 50 : std::min(request.page_size(), 1000);
  absl::StatusOr<std::string> cursor = PageCursorOf(request, scope);
  if (!cursor.ok()) return cursor.status();
  size_t offset = 0;
  if (!cursor->empty() && (!absl::SimpleAtoi(*cursor, &offset) || offset > items.size())) {
    return absl::InvalidArgumentError("page_token: not a token from this list method");
  }
  const size_t end = std::min(items.size(), offset + size);
  *next_page_token =
      NextPageToken(request, scope, end < items.size() ? absl::StrCat(end) : std::string());
  return std::vector<T>(std::make_move_iterator(items.begin() + offset),
                        std::make_move_iterator(items.begin() + end));
}

}  // namespace stamina::server

#endif  // STAMINA_SERVER_SERVICE_CONTEXT_H_
