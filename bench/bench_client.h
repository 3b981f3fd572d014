// File: bench/bench_client.h
//
// The public API as the service benchmarks' clients use it (bench:service,
// bench:soak): one channel and key, one call per method, each returning the
// call's gRPC status so that a benchmark can count errors instead of dying,
// plus what the benchmarks share: rendered PNGs of a reserved face,
// percentiles and the machine's name. Thread-safe: gRPC stubs are, and every
// call has its own context.
#ifndef STAMINA_BENCH_BENCH_CLIENT_H_
#define STAMINA_BENCH_BENCH_CLIENT_H_

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "stamina/v1/concept_service.grpc.pb.h"
#include "stamina/v1/model_service.grpc.pb.h"
#include "stamina/v1/sampler_service.grpc.pb.h"
#include "stamina/v1/training_service.grpc.pb.h"

namespace stamina::bench {

class BenchClient {
 public:
  BenchClient(const std::string& address, std::string key);

  // A call context presenting the key.
  std::unique_ptr<grpc::ClientContext> Call() const;
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

  grpc::Status CreateModel(const std::string& model, const std::string& base) const;
  // CreateConcept with caption template "a photo of {}".
  grpc::Status CreateConcept(const std::string& model, const std::string& concept_id,
                             const std::string& token) const;
  // UploadImages of `pngs` (one chunk each), named `<concept><i>.png`.
  grpc::Status Upload(const std::string& model, const std::string& concept_id,
                      const std::vector<std::string>& pngs) const;
  grpc::Status ListImages(const std::string& model, const std::string& concept_id,
                          int* count) const;
  grpc::Status DeleteConcept(const std::string& model, const std::string& concept_id) const;
  // TrainConcept, then WatchJob to the job's end; `*job` is its last state.
  grpc::Status Train(const std::string& model, const std::string& concept_id, int steps,
                     v1::Job* job) const;
  grpc::Status AdapterDigests(const std::string& model, std::vector<std::string>* digests) const;
  // One Sample call read to the end; `*received` counts the images.
  grpc::Status Sample(const std::string& model, const std::string& prompt, int images,
                      int steps, float guidance, int64_t seed, int* received) const;

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::string key_;
  std::unique_ptr<v1::ModelService::Stub> models_;
  std::unique_ptr<v1::ConceptService::Stub> concepts_;
  std::unique_ptr<v1::TrainingService::Stub> training_;
  std::unique_ptr<v1::SamplerService::Stub> sampler_;
};

// `count` PNG renders of the first reserved face identity (render 0 frontal,
// the others from seeds `first_seed`, `first_seed` + 1, ...).
std::vector<std::string> ReservedFacePngs(int count, uint64_t first_seed = 1);

// The value at fraction `p` of the sorted `values` (nearest rank); 0 when empty.
double Percentile(std::vector<double> values, double p);

// "CPU model, N cores".
std::string MachineName();

}  // namespace stamina::bench

#endif  // STAMINA_BENCH_BENCH_CLIENT_H_
