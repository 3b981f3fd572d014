// bench:soak — one real staminad process under mixed load for --duration_s
// (10 minutes by default): --samplers clients sampling without pause,
// --uploaders clients creating, uploading, listing and deleting concepts, one
// training stream (create, upload, TrainConcept, WatchJob to the end, again)
// and a hostile client (random request bytes, oversized and malformed
// requests, wrong and huge keys, each with a 5 s deadline). It reports, in
// --out as soak.json, soak.md and rss.png:
//   - crashes (staminad exiting before the end) and how SIGTERM at the end
//     went (exit status, seconds);
//   - per RPC of the well-behaved clients: calls, OK, RESOURCE_EXHAUSTED (a
//     documented answer under load), other errors (with examples), p50/p99;
//   - the hostile client's calls by kind and status code;
//   - staminad's RSS, read from /proc every second, plotted over time.
// --training_stream=false and --hostile=false leave those loads out, so the
// memory each one holds can be told apart; --staminad_flags passes flags on,
// and GLIBC_TUNABLES (inherited by staminad) is named in the report.
//
//   bazel run -c opt //bench:soak -- --out=bench/results/soak [--duration_s=600]
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "bench/bench_client.h"
#include "bench/continual/line_plot.h"
#include "common/process.h"
#include "core/world/png.h"
#include "grpcpp/impl/codegen/client_unary_call.h"
#include "grpcpp/support/byte_buffer.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(std::string, out, "/tmp/stamina-soak", "Output directory");
ABSL_FLAG(std::string, staminad, "app/staminad",
          "The staminad binary (the default is its place in bazel run's runfiles)");
ABSL_FLAG(std::string, base_model_dir, "models/stamina-tiny-v1",
          "Base model files; missing = random weights");
ABSL_FLAG(int, duration_s, 600, "Seconds of mixed load");
ABSL_FLAG(int, samplers, 4, "Sampling clients");
ABSL_FLAG(int, uploaders, 2, "Uploading clients");
ABSL_FLAG(int, sample_steps, 10, "Denoising steps per Sample");
ABSL_FLAG(int, train_steps, 20, "Training steps per concept of the training stream");
ABSL_FLAG(int, torch_threads, 0, "staminad --torch_threads (0 = all cores)");
ABSL_FLAG(bool, training_stream, true, "Run the training stream (false: to tell its memory apart)");
ABSL_FLAG(bool, hostile, true, "Run the hostile client");
ABSL_FLAG(std::vector<std::string>, staminad_flags, {},
          "More staminad flags, comma-separated (e.g. --memory_release_seconds=5)");
ABSL_FLAG(int64_t, sampler_cache_bytes, 0,
          "staminad --sampler_cache_bytes (folded models kept warm); 0 = staminad's default");

namespace stamina::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "bench:soak: %s\n", what.c_str());
  std::exit(1);
}

// What the well-behaved clients saw, per RPC; and the hostile client's
// outcomes per kind and code.
class Ledger {
 public:
  void Record(const std::string& rpc, const grpc::Status& status, double ms) {
    std::lock_guard<std::mutex> lock(mu_);
    Rpc& r = rpcs_[rpc];
    ++r.calls;
    r.latency_ms.push_back(ms);
    if (status.ok()) {
      ++r.ok;
    } else if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++r.exhausted;
    } else {
      ++r.errors;
      if (r.examples.size() < 3) {
        r.examples.push_back(absl::StrCat(status.error_code(), " ", status.error_message()));
      }
    }
  }
  void Hostile(const std::string& kind, const grpc::Status& status) {
    std::lock_guard<std::mutex> lock(mu_);
    ++hostile_[kind][status.error_code()];
  }

  struct Rpc {
    int64_t calls = 0, ok = 0, exhausted = 0, errors = 0;
    std::vector<double> latency_ms;
    std::vector<std::string> examples;
  };
  std::map<std::string, Rpc> rpcs() const {
    std::lock_guard<std::mutex> lock(mu_);
    return rpcs_;
  }
  std::map<std::string, std::map<int, int64_t>> hostile() const {
    std::lock_guard<std::mutex> lock(mu_);
    return hostile_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, Rpc> rpcs_;
  std::map<std::string, std::map<int, int64_t>> hostile_;
};

// Times `call` and records it.
template <typename Call>
grpc::Status Timed(Ledger& ledger, const std::string& rpc, Call call) {
  const auto start = SteadyClock::now();
  grpc::Status status = call();
  ledger.Record(rpc, status, 1e3 * Seconds(SteadyClock::now() - start).count());
  return status;
}

int FreePort() {
  // Bind port 0, read the port, close: staminad binds it next.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    Die("no free port");
  }
  const int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// VmRSS of `pid` in MiB; -1 once it is gone.
double RssMiB(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;
  }
  return -1;
}

// staminad as a child process with its own data directory; the bootstrap
// tenant's key comes from the 0600 file it writes.
// How RSS moved over the run: the largest sample in each third, and the
// least-squares slope of the per-minute maxima after the first two minutes
// (start-up and the first model warm-ups are not drift).
struct RssDrift {
  std::array<double, 3> third_max = {0, 0, 0};
  double mib_per_minute = 0;
};

RssDrift MeasureDrift(const std::vector<double>& rss_per_second) {
  RssDrift drift;
  const size_t n = rss_per_second.size();
  for (size_t i = 0; i < n; ++i) {
    double& slot = drift.third_max[std::min<size_t>(2, i * 3 / std::max<size_t>(n, 1))];
    slot = std::max(slot, rss_per_second[i]);
  }
  std::vector<double> minute_max;
  for (size_t start = 120; start + 60 <= n; start += 60) {
    minute_max.push_back(
        *std::max_element(rss_per_second.begin() + start, rss_per_second.begin() + start + 60));
  }
  const double m = minute_max.size();
  if (m < 2) return drift;
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = 0; i < minute_max.size(); ++i) {
    sx += i, sy += minute_max[i], sxx += double(i) * i, sxy += i * minute_max[i];
  }
  drift.mib_per_minute = (m * sxy - sx * sy) / (m * sxx - sx * sx);
  return drift;
}

struct Server {
  pid_t pid = 0;
  int port = 0;
  std::string key;
  std::string log;
};

Server StartStaminad(const std::string& data_dir) {
  Server server;
  server.port = FreePort();
  server.log = data_dir + "/staminad.log";
  std::vector<std::string> args = {
      absl::GetFlag(FLAGS_staminad),
      absl::StrCat("--listen=127.0.0.1:", server.port),
      "--data_dir=" + data_dir + "/data",
      "--bootstrap_tenant=soak",
      "--base_model_dir=" + WorkspacePath(absl::GetFlag(FLAGS_base_model_dir)),
      absl::StrCat("--torch_threads=", absl::GetFlag(FLAGS_torch_threads))};
  if (absl::GetFlag(FLAGS_sampler_cache_bytes) > 0) {
    args.push_back(
        absl::StrCat("--sampler_cache_bytes=", absl::GetFlag(FLAGS_sampler_cache_bytes)));
  }
  for (const std::string& flag : absl::GetFlag(FLAGS_staminad_flags)) args.push_back(flag);
  server.pid = fork();
  if (server.pid < 0) Die("fork");
  if (server.pid == 0) {
    const int fd = open(server.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> argv;
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  const std::string key_file = data_dir + "/data/bootstrap-soak.key";
  for (int i = 0; i < 1200; ++i) {
    if (ReadFile(server.log).find("staminad: serving ") != std::string::npos) {
      server.key = ReadFile(key_file);
      while (!server.key.empty() && (server.key.back() == '\n' || server.key.back() == ' ')) {
        server.key.pop_back();
      }
      if (!server.key.empty()) return server;
    }
    int status = 0;
    if (waitpid(server.pid, &status, WNOHANG) == server.pid) {
      Die("staminad exited at start:\n" + ReadFile(server.log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  Die("staminad did not start within 120 s:\n" + ReadFile(server.log));
}

// Random bytes, oversized and malformed requests, wrong and huge keys.
void HostileCall(const BenchClient& api, const std::string& address, Ledger& ledger,
                 std::mt19937_64& rng) {
  auto deadline = [](grpc::ClientContext& context) {
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  };
  static const char* const kUnary[] = {
      "/stamina.v1.ModelService/GetModel",        "/stamina.v1.ModelService/CreateModel",
      "/stamina.v1.ModelService/ListModels",      "/stamina.v1.ConceptService/CreateConcept",
      "/stamina.v1.TrainingService/TrainConcept", "/stamina.v1.TrainingService/GetJob",
      "/stamina.v1.SamplerService/GetCapabilities"};
  switch (rng() % 6) {
    case 0: {  // random bytes to a random unary method
      const char* method = kUnary[rng() % (sizeof(kUnary) / sizeof(kUnary[0]))];
      std::string bytes(1 + rng() % 256, '\0');
      for (char& c : bytes) c = static_cast<char>(rng());
      grpc::internal::RpcMethod rpc(method, grpc::internal::RpcMethod::NORMAL_RPC, api.channel());
      grpc::Slice slice(bytes);
      grpc::ByteBuffer request(&slice, 1), response;
      auto context = api.Call();
      deadline(*context);
      ledger.Hostile("random bytes", grpc::internal::BlockingUnaryCall(
                                         api.channel().get(), rpc, context.get(), request,
                                         &response));
      break;
    }
    case 1: {  // a wrong key, and a 60 KiB one
      BenchClient wrong(address, rng() % 2 == 0 ? "sk-wrong-key" : std::string(60 << 10, 'k'));
      int count = 0;
      ledger.Hostile("wrong or huge key", wrong.ListImages("serve", "anna", &count));
      break;
    }
    case 2: {  // 16 images of 1024 x 1024, 200 steps
      v1::SampleRequest request;
      request.set_model("models/serve");
      request.set_prompt("a photo of <anna>");
      request.set_image_count(16);
      request.set_width(1024);
      request.set_height(1024);
      request.set_steps(200);
      auto context = api.Call();
      deadline(*context);
      auto reader = v1::SamplerService::NewStub(api.channel())->Sample(context.get(), request);
      v1::SampleResponse response;
      while (reader->Read(&response)) {
      }
      ledger.Hostile("oversized Sample", reader->Finish());
      break;
    }
    case 3: {  // a 100,000-character prompt
      int received = 0;
      ledger.Hostile("huge prompt",
                     api.Sample("serve", std::string(100000, 'a'), 1, 10, 7.5f, 1, &received));
      break;
    }
    case 4: {  // an upload announcing 1 TiB, to a concept that still takes uploads
      auto context = api.Call();
      deadline(*context);
      v1::UploadImagesResponse response;
      auto writer =
          v1::ConceptService::NewStub(api.channel())->UploadImages(context.get(), &response);
      v1::UploadImagesRequest message;
      message.mutable_header()->set_parent("models/serve/concepts/draft");
      writer->Write(message);
      message.Clear();
      message.mutable_image_start()->set_size_bytes(int64_t{1} << 40);
      writer->Write(message);
      writer->WritesDone();
      ledger.Hostile("1 TiB upload", writer->Finish());
      break;
    }
    default: {  // a job that does not exist, watched
      auto context = api.Call();
      deadline(*context);
      v1::WatchJobRequest request;
      request.set_name("models/serve/jobs/no-such-job");
      auto reader = v1::TrainingService::NewStub(api.channel())->WatchJob(context.get(), request);
      v1::WatchJobResponse response;
      while (reader->Read(&response)) {
      }
      ledger.Hostile("watch a missing job", reader->Finish());
    }
  }
}

void Run() {
  const std::string out = WorkspacePath(absl::GetFlag(FLAGS_out));
  const int duration_s = absl::GetFlag(FLAGS_duration_s);
  const int sample_steps = absl::GetFlag(FLAGS_sample_steps);
  if (duration_s < 10) Die("--duration_s >= 10");
  if (std::system(("mkdir -p '" + out + "'").c_str()) != 0) Die("mkdir --out");
  char data_template[] = "/tmp/stamina-soak.XXXXXX";
  if (mkdtemp(data_template) == nullptr) Die("mkdtemp");
  const std::string data_dir = data_template;
  const std::string machine = MachineName();
  std::printf("machine: %s\n", machine.c_str());

  Server server = StartStaminad(data_dir);
  const std::string address = absl::StrCat("127.0.0.1:", server.port);
  const BenchClient api(address, server.key);
  const bool random_weights =
      ReadFile(server.log).find("random weights") != std::string::npos;

  // The model the samplers use: one concept, trained before the load starts.
  auto check = [](const grpc::Status& status, const char* what) {
    if (!status.ok()) Die(absl::StrCat(what, ": ", status.error_message()));
  };
  const std::vector<std::string> pngs = ReservedFacePngs(4);
  check(api.CreateModel("serve", "stamina-tiny-v1"), "CreateModel serve");
  check(api.CreateConcept("serve", "anna", "<anna>"), "CreateConcept");
  check(api.Upload("serve", "anna", pngs), "Upload");
  v1::Job setup_job;
  check(api.Train("serve", "anna", 30, &setup_job), "Train");
  if (setup_job.state() != v1::JOB_STATE_SUCCEEDED) Die("setup training did not succeed");
  // Never trained, so uploads to it are refused for their size, not its state.
  check(api.CreateConcept("serve", "draft", "<draft>"), "CreateConcept draft");
  check(api.CreateModel("train", "stamina-tiny-v1"), "CreateModel train");
  for (int u = 0; u < absl::GetFlag(FLAGS_uploaders); ++u) {
    check(api.CreateModel(absl::StrCat("uploads", u), "stamina-tiny-v1"), "CreateModel uploads");
  }
  std::printf("staminad pid %d on %s%s; soaking for %d s\n", server.pid, address.c_str(),
              random_weights ? " (random base weights)" : "", duration_s);

  Ledger ledger;
  std::atomic<bool> stop{false};
  std::atomic<bool> crashed{false};
  std::vector<std::thread> threads;
  for (int c = 0; c < absl::GetFlag(FLAGS_samplers); ++c) {
    threads.emplace_back([&, c] {
      for (int64_t i = 0; !stop; ++i) {
        int received = 0;
        Timed(ledger, "Sample", [&] {
          return api.Sample("serve", "a photo of <anna>", 1, sample_steps, 7.5f,
                            1 + c * 1000000 + i, &received);
        });
      }
    });
  }
  for (int u = 0; u < absl::GetFlag(FLAGS_uploaders); ++u) {
    threads.emplace_back([&, u] {
      const std::string model = absl::StrCat("uploads", u);
      for (int64_t i = 0; !stop; ++i) {
        const std::string concept_id = absl::StrCat("c", i);
        const std::vector<std::string> images = ReservedFacePngs(3, 100 + 10 * i + u);
        Timed(ledger, "CreateConcept",
              [&] { return api.CreateConcept(model, concept_id, "<" + concept_id + ">"); });
        Timed(ledger, "UploadImages", [&] { return api.Upload(model, concept_id, images); });
        int count = 0;
        Timed(ledger, "ListImages", [&] { return api.ListImages(model, concept_id, &count); });
        Timed(ledger, "DeleteConcept", [&] { return api.DeleteConcept(model, concept_id); });
      }
    });
  }
  if (absl::GetFlag(FLAGS_training_stream))
    threads.emplace_back([&] {
      for (int64_t i = 0; !stop; ++i) {
        const std::string concept_id = absl::StrCat("t", i);
        Timed(ledger, "CreateConcept",
              [&] { return api.CreateConcept("train", concept_id, "<" + concept_id + ">"); });
        Timed(ledger, "UploadImages",
              [&] { return api.Upload("train", concept_id, ReservedFacePngs(3, 5000 + 10 * i)); });
        v1::Job job;
        const grpc::Status trained = Timed(ledger, "TrainConcept+WatchJob", [&] {
          return api.Train("train", concept_id, absl::GetFlag(FLAGS_train_steps), &job);
        });
        if (trained.ok() && job.state() == v1::JOB_STATE_SUCCEEDED) {
          ledger.Record("training job outcome", grpc::Status::OK, 0);
        } else if (trained.ok()) {
          ledger.Record("training job outcome",
                        grpc::Status(grpc::StatusCode::UNKNOWN,
                                     absl::StrCat("job ended ", v1::JobState_Name(job.state()))),
                        0);
        }
      }
    });
  if (absl::GetFlag(FLAGS_hostile))
    threads.emplace_back([&] {
      std::mt19937_64 rng(7);
      while (!stop) {
        HostileCall(api, address, ledger, rng);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });

  // RSS once a second; a staminad that exits early is a crash.
  std::vector<double> rss;
  const auto start = SteadyClock::now();
  while (Seconds(SteadyClock::now() - start).count() < duration_s) {
    int status = 0;
    if (waitpid(server.pid, &status, WNOHANG) == server.pid) {
      crashed = true;
      std::printf("staminad exited during the soak (status %d)\n", status);
      break;
    }
    rss.push_back(RssMiB(server.pid));
    if (rss.size() % 60 == 0) {
      std::printf("%zu s: RSS %.0f MiB\n", rss.size(), rss.back());
      std::fflush(stdout);
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  stop = true;
  for (std::thread& t : threads) t.join();

  // A graceful stop: SIGTERM, then wait for the exit.
  double stop_seconds = -1;
  int exit_status = -1;
  if (!crashed) {
    const auto term = SteadyClock::now();
    kill(server.pid, SIGTERM);
    for (int i = 0; i < 1200; ++i) {
      int status = 0;
      if (waitpid(server.pid, &status, WNOHANG) == server.pid) {
        stop_seconds = Seconds(SteadyClock::now() - term).count();
        exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (exit_status < 0) {
      kill(server.pid, SIGKILL);
      waitpid(server.pid, nullptr, 0);
    }
  }

  // Extra staminad flags and allocator tunables, so a result says what it ran.
  std::string staminad_extra = absl::StrJoin(absl::GetFlag(FLAGS_staminad_flags), " ");
  for (const char* name : {"GLIBC_TUNABLES", "LD_PRELOAD", "MALLOC_CONF"}) {
    if (const char* value = std::getenv(name)) {
      absl::StrAppend(&staminad_extra, staminad_extra.empty() ? "" : " and ", name, "=", value);
    }
  }
  double rss_max = 0, rss_first_minute_max = 0;
  for (size_t i = 0; i < rss.size(); ++i) {
    rss_max = std::max(rss_max, rss[i]);
    if (i < 60) rss_first_minute_max = std::max(rss_first_minute_max, rss[i]);
  }
  const RssDrift drift = MeasureDrift(rss);
  int64_t well_behaved_errors = 0;
  nlohmann::json json = {{"machine", machine},
                         {"duration_s", duration_s},
                         {"samplers", absl::GetFlag(FLAGS_samplers)},
                         {"uploaders", absl::GetFlag(FLAGS_uploaders)},
                         {"sample_steps", sample_steps},
                         {"train_steps", absl::GetFlag(FLAGS_train_steps)},
                         {"sampler_cache_bytes", absl::GetFlag(FLAGS_sampler_cache_bytes)},
                         {"training_stream", absl::GetFlag(FLAGS_training_stream)},
                         {"hostile_client", absl::GetFlag(FLAGS_hostile)},
                         {"staminad_extra", staminad_extra},
                         {"random_base_weights", random_weights},
                         {"crashed", crashed.load()},
                         {"sigterm_exit_status", exit_status},
                         {"sigterm_seconds", stop_seconds},
                         {"rss_mib", rss},
                         {"rss_max_mib", rss_max},
                         {"rss_first_minute_max_mib", rss_first_minute_max},
                         {"rss_third_max_mib", drift.third_max},
                         {"rss_drift_mib_per_min", drift.mib_per_minute}};
  std::string md = absl::StrFormat(
      "# bench:soak\n\nMachine: %s. One staminad (--torch_threads=%d) for %d s: %d sampling "
      "clients (1 image, %d steps), %d uploaders (create, upload 3, list, delete), %s, %s.%s%s\n\n"
      "Sampler cache budget: %s.\n\n- crashes: %d\n- SIGTERM at the end: exit status %d after %.1f "
      "s\n"
      "- RSS: max %.0f MiB (max in the first minute %.0f MiB, last %.0f MiB); rss.png\n"
      "- RSS drift: max per third of the run %.0f / %.0f / %.0f MiB; least-squares slope of the "
      "per-minute max after minute 2: %+.2f MiB/min\n\n"
      "| RPC (well-behaved clients) | calls | OK | RESOURCE_EXHAUSTED | other errors | p50 ms | "
      "p99 ms |\n|---|---|---|---|---|---|---|\n",
      machine, absl::GetFlag(FLAGS_torch_threads), duration_s, absl::GetFlag(FLAGS_samplers),
      sample_steps, absl::GetFlag(FLAGS_uploaders),
      absl::GetFlag(FLAGS_training_stream)
          ? absl::StrCat("one training stream (", absl::GetFlag(FLAGS_train_steps),
                         " steps per concept)")
          : std::string("no training stream"),
      absl::GetFlag(FLAGS_hostile) ? "one hostile client (every 50 ms)" : "no hostile client",
      random_weights ? " Base model: random weights." : "",
      staminad_extra.empty() ? std::string()
                             : absl::StrCat(" staminad ran with ", staminad_extra, "."),
      absl::GetFlag(FLAGS_sampler_cache_bytes) > 0
          ? absl::StrCat(absl::GetFlag(FLAGS_sampler_cache_bytes) >> 20, " MiB")
          : std::string("staminad's default (1024 MiB)"),
      crashed ? 1 : 0, exit_status, stop_seconds, rss_max, rss_first_minute_max,
      rss.empty() ? 0.0 : rss.back(), drift.third_max[0], drift.third_max[1], drift.third_max[2],
      drift.mib_per_minute);
  for (const auto& [name, r] : ledger.rpcs()) {
    well_behaved_errors += r.errors;
    const double p50 = Percentile(r.latency_ms, 0.5), p99 = Percentile(r.latency_ms, 0.99);
    json["rpcs"][name] = {{"calls", r.calls},       {"ok", r.ok},
                          {"resource_exhausted", r.exhausted},
                          {"errors", r.errors},     {"error_examples", r.examples},
                          {"p50_ms", p50},          {"p99_ms", p99}};
    absl::StrAppendFormat(&md, "| %s | %d | %d | %d | %d | %.0f | %.0f |\n", name, r.calls,
                          r.ok, r.exhausted, r.errors, p50, p99);
  }
  json["well_behaved_errors"] = well_behaved_errors;
  absl::StrAppendFormat(&md, "\nErrors to well-behaved clients other than RESOURCE_EXHAUSTED: "
                             "**%d**.\n\n| hostile call | status codes (count) |\n|---|---|\n",
                        well_behaved_errors);
  for (const auto& [kind, codes] : ledger.hostile()) {
    std::string cell;
    for (const auto& [code, count] : codes) {
      absl::StrAppend(&cell, cell.empty() ? "" : ", ", code, " (", count, ")");
      json["hostile"][kind][absl::StrCat(code)] = count;
    }
    absl::StrAppendFormat(&md, "| %s | %s |\n", kind, cell);
  }
  for (const auto& [name, r] : ledger.rpcs()) {
    for (const std::string& example : r.examples) {
      absl::StrAppendFormat(&md, "\nExample error, %s: `%s`", name, example);
    }
  }
  md += "\n\nrss.png: staminad's resident memory (MiB) sampled once a second; x = seconds "
        "since the load started.\n";
  std::ofstream(out + "/soak.json") << json.dump(2) << "\n";
  std::ofstream(out + "/soak.md") << md;
  const absl::Status plotted = core::WritePng(
      LinePlot({{.name = "staminad RSS", .color = SeriesColor(0), .y = rss}}, 0,
               std::max(100.0, rss_max * 1.25),
               {.title = "staminad RSS under bench:soak",
                .x_title = "seconds since the load started",
                .y_title = "RSS (MiB)"},
               720, 400),
      out + "/rss.png");
  if (!plotted.ok()) Die(std::string(plotted.message()));
  (void)!std::system(("rm -rf '" + data_dir + "'").c_str());
  std::printf("%s\nwrote %s/soak.json, soak.md, rss.png\n", md.c_str(), out.c_str());
}

}  // namespace
}  // namespace stamina::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  stamina::bench::Run();
  return 0;
}
