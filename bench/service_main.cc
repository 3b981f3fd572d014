// bench:service — what the service costs on top of the pipeline, written to
// --out as service.json and service.md:
//   - Sample latency p50/p99 through gRPC (the embedded staminad composition,
//     EmbeddedService, in this process on a loopback port: auth, validation,
//     the sampler's folded-model cache, PNG encoding, streaming) and of a
//     direct core::GenerateImages call on the same folded model in the same
//     process, interleaved request by request; their ratio is the gRPC
//     overhead ratio;
//   - Sample throughput (images/s) and per-request latency with --clients
//     concurrent gRPC clients (1, 2, 4, 8), and each count's throughput over
//     the best of 1 and 2 clients (issue 18: >= 0.95, no collapse).
// The model has one concept (<anna>, a reserved face identity) trained
// through the public API first. Without the base model's files (e.g. before
// models/stamina-tiny-v1 exists) the architecture's random weights are used;
// the report says which.
//
//   bazel run -c opt //bench:service -- --out=/tmp/bench [--threads=1]
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "app/embedded_service.h"
#include "bench/bench_client.h"
#include "common/process.h"
#include "core/pipelines/text_to_image_pipeline.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"
#include "worker/model_builder.h"
#include "worker/torch_setup.h"

ABSL_FLAG(std::string, out, "/tmp/stamina-bench", "Output directory");
ABSL_FLAG(std::string, base_model, "stamina-tiny-v1",
          "Base model architecture (stamina-tiny-v1 or stamina-test-tiny)");
ABSL_FLAG(std::string, base_model_dir, "models/stamina-tiny-v1",
          "Base model files; missing = random weights");
ABSL_FLAG(int, threads, 0, "LibTorch intra-op threads; 0 = all cores");
ABSL_FLAG(int, train_steps, 50, "Training steps of the one concept");
ABSL_FLAG(int, sample_steps, 25, "Denoising steps per Sample");
ABSL_FLAG(int, images, 1, "Images per Sample");
ABSL_FLAG(int, requests, 30, "Latency: requests per path (gRPC and direct)");
ABSL_FLAG(std::string, clients, "1,2,4,8", "Throughput: concurrent client counts");
ABSL_FLAG(int, throughput_requests, 8, "Throughput: requests per client");
ABSL_FLAG(int, sampler_slots, 2, "The sampler's slots (staminad --sampler_slots)");
ABSL_FLAG(bool, sampler_dedicated_threads, true,
          "Denoise on one fixed thread per slot (false: on each gRPC handler thread)");
ABSL_FLAG(int, sampler_threads_per_slot, 0,
          "Torch threads of each slot's thread (0: --threads split between the slots)");

namespace stamina::bench {
namespace {

using Seconds = std::chrono::duration<double>;
using SteadyClock = std::chrono::steady_clock;

constexpr char kModel[] = "bench";
constexpr char kPrompt[] = "a photo of <anna>";
constexpr float kGuidance = 7.5f;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "bench:service: %s\n", what.c_str());
  std::exit(1);
}
void Check(const absl::Status& status, const char* what) {
  if (!status.ok()) Die(absl::StrCat(what, ": ", status.ToString()));
}
void Check(const grpc::Status& status, const char* what) {
  if (!status.ok()) {
    Die(absl::StrCat(what, ": gRPC ", status.error_code(), ": ", status.error_message()));
  }
}

// bench:service's calls: any failure ends the benchmark.
class Client {
 public:
  Client(int port, std::string key) : api_(absl::StrCat("127.0.0.1:", port), std::move(key)) {}

  void CreateModel(const std::string& base) {
    Check(api_.CreateModel(kModel, base), "CreateModel");
  }
  void CreateConcept(const std::vector<std::string>& pngs) {
    Check(api_.CreateConcept(kModel, "anna", "<anna>"), "CreateConcept");
    Check(api_.Upload(kModel, "anna", pngs), "UploadImages");
  }
  // Trains <anna> and waits for the job to end; returns its final state.
  v1::Job Train(int steps) {
    v1::Job job;
    Check(api_.Train(kModel, "anna", steps, &job), "Train");
    return job;
  }
  std::vector<std::string> AdapterDigests() {
    std::vector<std::string> digests;
    Check(api_.AdapterDigests(kModel, &digests), "GetLineage");
    return digests;
  }
  // One Sample call read to the end; returns the images received.
  int Sample(int images, int steps, int64_t seed) const {
    int received = 0;
    Check(api_.Sample(kModel, kPrompt, images, steps, kGuidance, seed, &received), "Sample");
    return received;
  }

 private:
  BenchClient api_;
};

struct Throughput {
  int clients = 0;
  int images = 0;
  double seconds = 0;
  // Per-request latency (queueing included) over every client's requests.
  double p50_ms = 0;
  double p99_ms = 0;
};

Throughput MeasureThroughput(const Client& client, int clients, int requests, int images,
                             int steps) {
  std::vector<std::thread> threads;
  std::atomic<int> received{0};
  std::vector<std::vector<double>> latency_ms(clients);
  const auto start = SteadyClock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      for (int r = 0; r < requests; ++r) {
        const auto t0 = SteadyClock::now();
        received += client.Sample(images, steps, 1000 + c * requests + r);
        latency_ms[c].push_back(1e3 * Seconds(SteadyClock::now() - t0).count());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::vector<double> all;
  for (const auto& per_client : latency_ms) all.insert(all.end(), per_client.begin(), per_client.end());
  return {clients, received.load(), Seconds(SteadyClock::now() - start).count(),
          Percentile(all, 0.5), Percentile(all, 0.99)};
}

void Run() {
  const std::string out = WorkspacePath(absl::GetFlag(FLAGS_out));
  const int images = absl::GetFlag(FLAGS_images);
  const int steps = absl::GetFlag(FLAGS_sample_steps);
  const int requests = absl::GetFlag(FLAGS_requests);
  if (images < 1 || steps < 1 || requests < 2) Die("--images, --sample_steps >= 1, --requests >= 2");
  std::vector<int> client_counts;
  for (absl::string_view part : absl::StrSplit(absl::GetFlag(FLAGS_clients), ',')) {
    int n = 0;
    if (!absl::SimpleAtoi(part, &n) || n < 1) Die("--clients: positive integers");
    client_counts.push_back(n);
  }
  Check(absl::Status(std::system(("mkdir -p '" + out + "'").c_str()) == 0
                         ? absl::OkStatus()
                         : absl::InternalError(out)),
        "mkdir --out");
  auto torch = worker::SetUpTorch(absl::GetFlag(FLAGS_threads));
  Check(torch.status(), "SetUpTorch");
  const std::string machine = MachineName();
  std::printf("machine: %s\n%s\n", machine.c_str(), torch->c_str());

  char data_template[] = "/tmp/stamina-bench-service.XXXXXX";
  if (mkdtemp(data_template) == nullptr) Die("mkdtemp");
  const std::string data_dir = data_template;
  const std::string base_id = absl::GetFlag(FLAGS_base_model);
  auto service = app::EmbeddedService::Create(
      {.api = {.data_dir = data_dir},
       .base_model = {.id = base_id,
                      .dir = WorkspacePath(absl::GetFlag(FLAGS_base_model_dir)),
                      .random_fallback = true},
       .worker_slots = 1,
       .worker_poll_interval = absl::Milliseconds(20),
       .sampler_slots = absl::GetFlag(FLAGS_sampler_slots),
       .sampler_dedicated_threads = absl::GetFlag(FLAGS_sampler_dedicated_threads),
       .sampler_threads_per_slot = absl::GetFlag(FLAGS_sampler_threads_per_slot)});
  Check(service.status(), "EmbeddedService::Create");
  const bool random_weights = (*service)->base_model().dir.empty();
  Check((*service)->server().tenants().CreateTenant("bench", "").status(), "CreateTenant");
  auto key = (*service)->server().tenants().CreateApiKey("bench");
  Check(key.status(), "CreateApiKey");
  Client client((*service)->server().port(), key->secret);

  client.CreateModel(base_id);
  client.CreateConcept(ReservedFacePngs(5));
  const auto train_start = SteadyClock::now();
  const v1::Job job = client.Train(absl::GetFlag(FLAGS_train_steps));
  const double train_seconds = Seconds(SteadyClock::now() - train_start).count();
  if (job.state() != v1::JOB_STATE_SUCCEEDED) Die("training did not succeed: " + job.DebugString());
  std::printf("trained <anna> (%d steps) in %.1f s%s\n", absl::GetFlag(FLAGS_train_steps),
              train_seconds, random_weights ? " (random base weights)" : "");

  // The same folded model, built directly for the in-process baseline.
  auto library = worker::BaseModelLibrary::Create({(*service)->base_model()});
  Check(library.status(), "BaseModelLibrary::Create");
  auto base = (*library)->Load(base_id, "");
  Check(base.status(), "Load");
  std::vector<std::string> artifacts;
  for (const std::string& digest : client.AdapterDigests()) {
    auto bytes = (*service)->server().blobs().Get(digest);
    Check(bytes.status(), "blob");
    artifacts.push_back(std::move(*bytes));
  }
  auto folded = worker::FoldLineage(std::move(*base), artifacts, {});
  Check(folded.status(), "FoldLineage");
  auto direct = [&](int64_t seed) {
    Check(core::GenerateImages(folded->model, {.prompt = kPrompt,
                                               .count = images,
                                               .steps = steps,
                                               .guidance_scale = kGuidance,
                                               .seed = seed})
              .status(),
          "GenerateImages");
  };

  // Warm both paths (the sampler builds its cache entry on the first call).
  client.Sample(images, steps, 1);
  direct(1);
  std::vector<double> grpc_ms, direct_ms;
  for (int i = 0; i < requests; ++i) {
    auto t0 = SteadyClock::now();
    if (client.Sample(images, steps, 100 + i) != images) Die("Sample returned too few images");
    auto t1 = SteadyClock::now();
    direct(100 + i);
    auto t2 = SteadyClock::now();
    grpc_ms.push_back(1e3 * Seconds(t1 - t0).count());
    direct_ms.push_back(1e3 * Seconds(t2 - t1).count());
  }
  const double grpc_p50 = Percentile(grpc_ms, 0.5), grpc_p99 = Percentile(grpc_ms, 0.99);
  const double direct_p50 = Percentile(direct_ms, 0.5), direct_p99 = Percentile(direct_ms, 0.99);
  std::printf("Sample latency (%d requests, %d image(s), %d steps, guidance %.1f):\n"
              "  gRPC   p50 %.1f ms  p99 %.1f ms\n  direct p50 %.1f ms  p99 %.1f ms\n"
              "  gRPC overhead ratio p50 %.3f  p99 %.3f\n",
              requests, images, steps, kGuidance, grpc_p50, grpc_p99, direct_p50,
              direct_p99, grpc_p50 / direct_p50, grpc_p99 / direct_p99);

  std::vector<Throughput> throughput;
  for (int clients : client_counts) {
    throughput.push_back(MeasureThroughput(client, clients,
                                           absl::GetFlag(FLAGS_throughput_requests), images,
                                           steps));
    const Throughput& t = throughput.back();
    std::printf(
        "throughput %d client(s): %.2f images/s (%d images in %.1f s), latency p50 %.0f ms "
        "p99 %.0f ms\n",
        t.clients, t.images / t.seconds, t.images, t.seconds, t.p50_ms, t.p99_ms);
  }
  (*service)->Shutdown(absl::Seconds(5));
  (void)!std::system(("rm -rf '" + data_dir + "'").c_str());

  nlohmann::json json = {
      {"machine", machine},
      {"torch", *torch},
      {"threads", absl::GetFlag(FLAGS_threads)},
      {"sampler_slots", absl::GetFlag(FLAGS_sampler_slots)},
      {"sampler_dedicated_threads", absl::GetFlag(FLAGS_sampler_dedicated_threads)},
      {"sampler_threads_per_slot", absl::GetFlag(FLAGS_sampler_threads_per_slot)},
      {"base_model", base_id},
      {"random_base_weights", random_weights},
      {"train_steps", absl::GetFlag(FLAGS_train_steps)},
      {"train_seconds", train_seconds},
      {"sample", {{"images", images}, {"steps", steps}, {"guidance", kGuidance},
                  {"prompt", kPrompt}}},
      {"latency_ms", {{"requests", requests},
                      {"grpc", {{"p50", grpc_p50}, {"p99", grpc_p99}}},
                      {"direct", {{"p50", direct_p50}, {"p99", direct_p99}}}}},
      {"grpc_overhead_ratio", {{"p50", grpc_p50 / direct_p50}, {"p99", grpc_p99 / direct_p99}}},
  };
  std::string md = absl::StrFormat(
      "# bench:service\n\nMachine: %s. %s.\nBase model %s%s; one concept trained %d steps "
      "(%.1f s).\nSample: %d image(s), %d steps, guidance %.1f, \"%s\"; sampler slots %d, "
      "denoising on %s%s.\n\n"
      "| path | p50 ms | p99 ms |\n|---|---|---|\n| gRPC (EmbeddedService, loopback) | %.1f "
      "| %.1f |\n| direct GenerateImages | %.1f | %.1f |\n| **ratio** | **%.3f** | **%.3f** |\n\n"
      "| clients | images/s | images | seconds | latency p50 ms | latency p99 ms | images/s vs "
      "best of 1-2 clients |\n|---|---|---|---|---|---|---|\n",
      machine, *torch, base_id, random_weights ? " (random weights)" : "",
      absl::GetFlag(FLAGS_train_steps), train_seconds, images, steps, kGuidance, kPrompt,
      absl::GetFlag(FLAGS_sampler_slots),
      absl::GetFlag(FLAGS_sampler_dedicated_threads) ? "one fixed thread per slot"
                                                     : "the gRPC handler threads",
      !absl::GetFlag(FLAGS_sampler_dedicated_threads) ? std::string("")
      : absl::GetFlag(FLAGS_sampler_threads_per_slot) > 0
          ? absl::StrCat(", ", absl::GetFlag(FLAGS_sampler_threads_per_slot),
                         " torch thread(s) each")
          : std::string(", the torch threads split between them"),
      grpc_p50, grpc_p99, direct_p50, direct_p99, grpc_p50 / direct_p50,
      grpc_p99 / direct_p99);
  // The no-collapse check of issue 18: more clients should not lower
  // throughput below the best of one or two.
  double best_few = 0;
  for (const Throughput& t : throughput) {
    if (t.clients <= 2) best_few = std::max(best_few, t.images / t.seconds);
  }
  for (const Throughput& t : throughput) {
    const double rate = t.images / t.seconds;
    json["throughput"].push_back({{"clients", t.clients},
                                  {"images", t.images},
                                  {"seconds", t.seconds},
                                  {"images_per_second", rate},
                                  {"latency_ms", {{"p50", t.p50_ms}, {"p99", t.p99_ms}}},
                                  {"vs_best_of_1_2", best_few > 0 ? rate / best_few : 0}});
    absl::StrAppendFormat(&md, "| %d | %.2f | %d | %.1f | %.0f | %.0f | %.3f |\n", t.clients,
                          rate, t.images, t.seconds, t.p50_ms, t.p99_ms,
                          best_few > 0 ? rate / best_few : 0);
  }
  std::ofstream(out + "/service.json") << json.dump(2) << "\n";
  std::ofstream(out + "/service.md") << md;
  std::printf("wrote %s/service.json and service.md\n", out.c_str());
}

}  // namespace
}  // namespace stamina::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  stamina::bench::Run();
  return 0;
}
