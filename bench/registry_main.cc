// bench:registry — registry throughput on this machine, written to
// --out as registry.json and registry.md:
//   - job create, and claim+complete by N worker threads (jobs/s), with
//     synchronous=FULL (every commit fsynced: what the server acknowledges)
//     and, side by side in the same process, synchronous=NORMAL;
//   - image commit: blob file (temp + fsync + rename + dir fsync) plus its
//     registry row, one image per transaction (images/s);
//   - API-key lookups (the read behind every authenticated call) by N reader
//     threads while one writer commits concepts (synchronous=FULL), with the
//     reads on the writer's connection (read_connections=0, as before) and,
//     side by side, on a pool of read connections.
//
//   bazel run -c opt //bench:registry -- --out=/tmp/bench --jobs=1000 --workers=1,4
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/clock.h"
#include "common/ids.h"
#include "nlohmann/json.hpp"
#include "storage/caching_tenant_store.h"
#include "storage/file_blob_store.h"
#include "storage/registry_database.h"
#include "storage/sha256.h"
#include "storage/sqlite_job_store.h"
#include "storage/sqlite_model_store.h"
#include "storage/sqlite_tenant_store.h"

ABSL_FLAG(std::string, out, "/tmp/stamina-bench", "Output directory");
ABSL_FLAG(int, jobs, 1000, "Jobs per measurement");
ABSL_FLAG(int, images, 500, "Images for the image-commit measurement");
ABSL_FLAG(std::string, workers, "1,4", "Worker thread counts to measure");
ABSL_FLAG(std::string, readers, "1,4", "Reader thread counts for the key-lookup measurement");
ABSL_FLAG(int, read_connections, 4, "The pool size compared with 0 (reads on the writer)");
ABSL_FLAG(double, read_seconds, 3, "Seconds per key-lookup measurement");

namespace stamina::storage {
namespace {

using Seconds = std::chrono::duration<double>;

void Die(const absl::Status& status, const char* what) {
  std::fprintf(stderr, "error: %s: %s\n", what, status.ToString().c_str());
  std::exit(1);
}
#define CHECK_OK(expr) \
  if (absl::Status s_ = (expr); !s_.ok()) Die(s_, #expr)

struct Stores {
  std::unique_ptr<RegistryDatabase> db;
  std::unique_ptr<SqliteTenantStore> tenants;
  std::unique_ptr<SqliteModelStore> models;
  std::unique_ptr<SqliteJobStore> jobs;
};

Stores Open(const std::string& path, Database::Synchronous sync, IdGenerator* ids,
            int read_connections = 4, int statement_cache_size = 64) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::remove((path + suffix).c_str());
  }
  Stores s;
  auto db = RegistryDatabase::Open(
      {.path = path,
       .synchronous = sync,
       .read_connections = read_connections,
       .statement_cache_size = statement_cache_size});
  CHECK_OK(db.status());
  s.db = std::move(*db);
  s.tenants = *SqliteTenantStore::Create(
      {.db = s.db.get(), .clock = Clock::Real(), .ids = ids});
  s.models = *SqliteModelStore::Create({.db = s.db.get(), .clock = Clock::Real()});
  s.jobs = *SqliteJobStore::Create(
      {.db = s.db.get(), .clock = Clock::Real(), .ids = ids});
  CHECK_OK(s.models->PutBaseModel({.id = "tiny", .digest = Sha256Hex("w")}).status());
  return s;
}

struct JobNumbers {
  double create_per_s = 0;
  double claim_complete_per_s = 0;
};

// `jobs` jobs over 5 tenants x 20 models, then `workers` threads drain them.
JobNumbers MeasureJobs(const std::string& path, Database::Synchronous sync,
                       int jobs, int workers) {
  RandomIdGenerator ids;
  Stores s = Open(path, sync, &ids);
  for (int t = 0; t < 5; ++t) {
    CHECK_OK(s.tenants->CreateTenant(absl::StrCat("t", t), "").status());
    for (int m = 0; m < 20; ++m) {
      CHECK_OK(s.models->CreateModel({.tenant_id = absl::StrCat("t", t),
                                      .id = absl::StrCat("m", m),
                                      .base_model_id = "tiny"})
                   .status());
    }
  }
  for (int i = 0; i < jobs; ++i) {  // concepts + images: set-up, not timed
    const std::string tenant = absl::StrCat("t", i % 5);
    const std::string model = absl::StrCat("m", (i / 5) % 20);
    const std::string concept = absl::StrCat("c", i);
    CHECK_OK(s.models->CreateConcept({.tenant_id = tenant, .model_id = model,
                                      .id = concept, .token = "<" + concept + ">"})
                 .status());
    CHECK_OK(s.models->AddImage(tenant, model, concept,
                                {.digest = Sha256Hex(concept), .size_bytes = 1})
                 .status());
  }
  JobNumbers numbers;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < jobs; ++i) {
    CHECK_OK(s.jobs->Create({.tenant_id = absl::StrCat("t", i % 5),
                             .model_id = absl::StrCat("m", (i / 5) % 20),
                             .concept_id = absl::StrCat("c", i)})
                 .status());
  }
  numbers.create_per_s =
      jobs / Seconds(std::chrono::steady_clock::now() - start).count();

  std::atomic<int> done{0};
  start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      while (done.load() < jobs) {
        auto lease = s.jobs->Claim(absl::StrCat("w", w), absl::Minutes(5));
        CHECK_OK(lease.status());
        if (!lease->has_value()) {
          std::this_thread::yield();
          continue;
        }
        CHECK_OK(s.jobs
                     ->Complete((*lease)->lease_id,
                                {.adapter_digest = Sha256Hex((*lease)->job.id)})
                     .status());
        ++done;
      }
    });
  }
  for (auto& t : threads) t.join();
  numbers.claim_complete_per_s =
      jobs / Seconds(std::chrono::steady_clock::now() - start).count();
  return numbers;
}

double MeasureImages(const std::string& dir, int images) {
  SequentialIdGenerator ids("k");
  Stores s = Open(dir + "/images.db", Database::Synchronous::kFull, &ids);
  auto blobs = FileBlobStore::Create({.root = dir + "/blobs"});
  CHECK_OK(blobs.status());
  CHECK_OK(s.tenants->CreateTenant("t", "").status());
  CHECK_OK(s.models->CreateModel({.tenant_id = "t", .id = "m", .base_model_id = "tiny"})
               .status());
  CHECK_OK(s.models->CreateConcept({.tenant_id = "t", .model_id = "m", .id = "c",
                                    .token = "<c>"})
               .status());
  std::string image(3 * 1024, 'x');  // a small PNG's worth of bytes
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < images; ++i) {
    std::memcpy(image.data(), &i, sizeof(i));
    auto digest = (*blobs)->Put(image);
    CHECK_OK(digest.status());
    CHECK_OK(s.models->AddImage("t", "m", "c",
                                {.digest = *digest,
                                 .size_bytes = static_cast<int64_t>(image.size())})
                 .status());
  }
  return images / Seconds(std::chrono::steady_clock::now() - start).count();
}

struct ReadNumbers {
  double lookups_per_s = 0;
  double writes_per_s = 0;
};

// `readers` threads resolve an API key in a loop while one thread creates
// concepts (one fsynced transaction each), for `seconds`; with `key_cache`
// through staminad's CachingTenantStore.
ReadNumbers MeasureReads(const std::string& path, int read_connections,
                         int statement_cache_size, bool key_cache, int readers, double seconds) {
  RandomIdGenerator ids;
  Stores s =
      Open(path, Database::Synchronous::kFull, &ids, read_connections, statement_cache_size);
  CHECK_OK(s.tenants->CreateTenant("t", "").status());
  auto key = s.tenants->CreateApiKey("t");
  CHECK_OK(key.status());
  CHECK_OK(s.models->CreateModel({.tenant_id = "t", .id = "m", .base_model_id = "tiny"})
               .status());
  TenantStore* tenants = s.tenants.get();
  std::unique_ptr<CachingTenantStore> cache;
  if (key_cache) {
    auto created = CachingTenantStore::Create({.inner = tenants, .clock = stamina::Clock::Real()});
    CHECK_OK(created.status());
    cache = std::move(*created);
    tenants = cache.get();
  }
  std::atomic<bool> stop{false};
  std::atomic<int64_t> lookups{0};
  int64_t writes = 0;
  std::vector<std::thread> threads;
  for (int r = 0; r < readers; ++r) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        CHECK_OK(tenants->ResolveApiKey(key->secret).status());
        lookups.fetch_add(1);
      }
    });
  }
  threads.emplace_back([&] {
    while (!stop.load()) {
      const std::string concept = absl::StrCat("c", writes);
      CHECK_OK(s.models->CreateConcept({.tenant_id = "t", .model_id = "m", .id = concept,
                                        .token = "<" + concept + ">"})
                   .status());
      ++writes;
    }
  });
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(Seconds(seconds));
  stop.store(true);
  for (auto& t : threads) t.join();
  const double elapsed = Seconds(std::chrono::steady_clock::now() - start).count();
  return {.lookups_per_s = lookups.load() / elapsed, .writes_per_s = writes / elapsed};
}

std::string CpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

}  // namespace
}  // namespace stamina::storage

int main(int argc, char** argv) {
  using namespace stamina::storage;  // NOLINT: main only
  absl::ParseCommandLine(argc, argv);
  const std::string out = absl::GetFlag(FLAGS_out);
  if (std::system(absl::StrCat("mkdir -p '", out, "'").c_str()) != 0) return 1;
  const int jobs = absl::GetFlag(FLAGS_jobs);
  const std::string machine = absl::StrFormat(
      "%s, %d cores", CpuModel(), static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)));
  std::printf("registry benchmark on %s\n", machine.c_str());

  nlohmann::json result = {{"machine", machine}, {"jobs", jobs}};
  std::string md = absl::StrCat(
      "# Registry benchmark\n\nMachine: ", machine, ". Jobs: ", jobs,
      " over 5 tenants x 20 models. Registry file on local disk.\n\n",
      "| synchronous | workers | job create (jobs/s) | claim+complete (jobs/s) |\n",
      "|---|---|---|---|\n");
  const std::vector<std::string> worker_counts =
      absl::StrSplit(absl::GetFlag(FLAGS_workers), ',');
  for (const std::string& w : worker_counts) {
    const int workers = std::stoi(w);
    for (auto [name, sync] : {std::pair{"FULL", Database::Synchronous::kFull},
                              std::pair{"NORMAL", Database::Synchronous::kNormal}}) {
      JobNumbers n = MeasureJobs(out + "/jobs.db", sync, jobs, workers);
      std::printf("synchronous=%-6s workers=%d  create %8.0f jobs/s  "
                  "claim+complete %8.0f jobs/s\n",
                  name, workers, n.create_per_s, n.claim_complete_per_s);
      result["job_queue"].push_back({{"synchronous", name},
                                     {"workers", workers},
                                     {"create_per_s", n.create_per_s},
                                     {"claim_complete_per_s", n.claim_complete_per_s}});
      absl::StrAppend(&md, "| ", name, " | ", workers, " | ",
                      absl::StrFormat("%.0f", n.create_per_s), " | ",
                      absl::StrFormat("%.0f", n.claim_complete_per_s), " |\n");
    }
  }
  const int images = absl::GetFlag(FLAGS_images);
  const double images_per_s = MeasureImages(out, images);
  std::printf("image commit (3 KiB blob fsynced + row, synchronous=FULL): "
              "%.0f images/s\n", images_per_s);
  result["image_commit"] = {{"images", images}, {"per_s", images_per_s},
                            {"bytes_each", 3 * 1024}};
  absl::StrAppend(&md, "\nImage commit (3 KiB blob: temp file, fsync, rename, "
                       "directory fsync; then its row, synchronous=FULL): ",
                  absl::StrFormat("%.0f", images_per_s), " images/s over ",
                  images, " images.\n");
  const double read_seconds = absl::GetFlag(FLAGS_read_seconds);
  const int pool = absl::GetFlag(FLAGS_read_connections);
  absl::StrAppend(&md, "\nAPI-key lookups (ResolveApiKey, the read behind every call) by N "
                       "threads while one writer commits concepts (synchronous=FULL), ",
                  absl::StrFormat("%.0f", read_seconds), " s each:\n\n",
                  "| read connections | statement cache | key cache | readers | key lookups/s |"
                  " writes/s |\n",
                  "|---|---|---|---|---|---|\n");
  const std::vector<std::string> reader_counts =
      absl::StrSplit(absl::GetFlag(FLAGS_readers), ',');
  for (const std::string& r : reader_counts) {
    const int readers = std::stoi(r);
    // Before (one connection, no cache), the statement cache alone, the pool
    // alone, both, and both behind the API-key cache (staminad's setup).
    struct Setup {
      int connections;
      int cache;
      bool key_cache;
    };
    for (const Setup& setup : {Setup{0, 0, false}, Setup{0, 64, false}, Setup{pool, 0, false},
                               Setup{pool, 64, false}, Setup{pool, 64, true}}) {
      const auto [connections, cache, key_cache] = setup;
      const ReadNumbers n = MeasureReads(out + "/reads.db", connections, cache, key_cache,
                                         readers, read_seconds);
      std::printf("read_connections=%d statement_cache=%d key_cache=%d readers=%d  %8.0f key "
                  "lookups/s  %6.0f writes/s\n",
                  connections, cache, key_cache, readers, n.lookups_per_s, n.writes_per_s);
      result["key_lookups"].push_back({{"read_connections", connections},
                                       {"statement_cache_size", cache},
                                       {"key_cache", key_cache},
                                       {"readers", readers},
                                       {"lookups_per_s", n.lookups_per_s},
                                       {"writes_per_s", n.writes_per_s}});
      absl::StrAppend(&md, "| ", connections, " | ", cache, " | ", key_cache ? "yes" : "no",
                      " | ", readers, " | ",
                      absl::StrFormat("%.0f", n.lookups_per_s), " | ",
                      absl::StrFormat("%.0f", n.writes_per_s), " |\n");
    }
  }
  std::ofstream(out + "/registry.json") << result.dump(2) << "\n";
  std::ofstream(out + "/registry.md") << md;
  std::printf("wrote %s/registry.json and registry.md\n", out.c_str());
  return 0;
}
