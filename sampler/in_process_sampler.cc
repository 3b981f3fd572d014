#include "sampler/in_process_sampler.h"

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "core/pipelines/diffusers_export.h"
#include "core/pipelines/sampling_memory.h"
#include "core/pipelines/text_to_image_pipeline.h"
#include "core/torch_runtime.h"
#include "images/png_codec.h"
#include "sampler/folded_model_cache.h"
#include "sampler/sample_admission.h"
#include "sampler/sampling_threads.h"
#include "worker/model_builder.h"
#include "worker/torch_setup.h"

namespace stamina::sampler {
namespace {

absl::StatusOr<FoldedModelCache::Model> LoadModel(const InProcessSampler::Options& options,
                                                  const worker::BaseModelLibrary& library,
                                                  FoldedModelCache& cache,
                                                  const rpc::ModelRecipe& recipe) {
  auto build = [&]() -> absl::StatusOr<FoldedModelCache::Model> {
    STAMINA_ASSIGN_OR_RETURN(core::DiffusionModel base,
                             library.Load(recipe.base_model_id, recipe.base_model_digest));
    // One adapter in memory at a time, however long the lineage.
    STAMINA_ASSIGN_OR_RETURN(
        worker::FoldedModel folded,
        worker::FoldLineage(
            std::move(base), recipe.adapter_digests.size(),
            [&](size_t i) { return options.blobs->Get(recipe.adapter_digests[i]); }, {}));
    if (!recipe.tokens.empty() && folded.tokens != recipe.tokens) {
      return absl::DataLossError(
          absl::StrCat("the version's adapters carry tokens ", absl::StrJoin(folded.tokens, ","),
                       " but its lineage says ", absl::StrJoin(recipe.tokens, ",")));
    }
    auto model = std::make_shared<worker::FoldedModel>(std::move(folded));
    if (options.warm_up) {
      STAMINA_RETURN_IF_ERROR(
          core::GenerateImages(
              model->model, {.prompt = "warm up", .count = 1, .steps = 1, .guidance_scale = 1.0f})
              .status());
    }
    return model;
  };
  return cache.Get(InProcessSampler::CacheKey(recipe), build);
}

}  // namespace

InProcessSampler::InProcessSampler(Options options, rpc::ComputeDeviceReport device,
                                   std::unique_ptr<worker::BaseModelLibrary> library,
                                   std::unique_ptr<FoldedModelCache> cache,
                                   std::unique_ptr<SampleAdmission> admission,
                                   std::unique_ptr<SamplingThreads> threads)
    : options_(std::move(options)),
      device_(std::move(device)),
      library_(std::move(library)),
      cache_(std::move(cache)),
      admission_(std::move(admission)),
      threads_(std::move(threads)) {}

InProcessSampler::~InProcessSampler() = default;

absl::StatusOr<std::unique_ptr<InProcessSampler>> InProcessSampler::Create(Options options) {
  if (options.blobs == nullptr) return absl::InvalidArgumentError("blobs: required");
  if (options.base_models.empty()) {
    return absl::InvalidArgumentError("base_models: at least one");
  }
  if (options.threads_per_slot < 0) {
    return absl::InvalidArgumentError("threads_per_slot: must be >= 0");
  }
  if (options.cache_bytes <= 0) {
    return absl::InvalidArgumentError("cache_bytes: must be positive");
  }
  STAMINA_ASSIGN_OR_RETURN(std::unique_ptr<worker::BaseModelLibrary> library,
                           worker::BaseModelLibrary::Create(options.base_models, options.device));
  STAMINA_ASSIGN_OR_RETURN(rpc::ComputeDeviceReport device,
                           worker::DescribeDevice(options.device, rpc::kSamplingRole));
  auto cache = std::make_unique<FoldedModelCache>(options.cache_bytes);
  STAMINA_ASSIGN_OR_RETURN(
      std::unique_ptr<SampleAdmission> admission,
      SampleAdmission::Create({.slots = options.slots,
                               .memory_budget_bytes = options.memory_budget_bytes,
                               .max_waiting = options.max_waiting,
                               .max_waiting_per_tenant = options.max_waiting_per_tenant}));
  std::unique_ptr<SamplingThreads> threads;
  if (options.dedicated_threads) {
    const int per_slot = options.threads_per_slot > 0
                             ? options.threads_per_slot
                             : std::max(1, core::CallingThreadTorchThreads() / options.slots);
    std::function<void()> on_start = [per_slot] {
      // Only fails for a count below 1, which per_slot never is.
      (void)core::SetCallingThreadTorchThreads(per_slot);
    };
    STAMINA_ASSIGN_OR_RETURN(threads, SamplingThreads::Create(options.slots, on_start));
  }
  return std::unique_ptr<InProcessSampler>(
      new InProcessSampler(std::move(options), std::move(device), std::move(library),
                           std::move(cache), std::move(admission), std::move(threads)));
}

absl::Status InProcessSampler::Warm(const rpc::ModelRecipe& recipe,
                                    const std::function<bool()>& /*cancelled*/) {
  return LoadModel(options_, *library_, *cache_, recipe).status();
}

absl::Status InProcessSampler::Sample(const rpc::ModelRecipe& recipe,
                                      const rpc::SampleParams& params, rpc::SampleSink& sink) {
  STAMINA_ASSIGN_OR_RETURN(core::DiffusionModelConfig config,
                           library_->Config(recipe.base_model_id));
  const bool guided = params.guidance_scale > 1.0f;
  STAMINA_RETURN_IF_ERROR(core::CheckSampleSize(config, params.width, params.height, guided,
                                                options_.memory_budget_bytes));
  STAMINA_ASSIGN_OR_RETURN(
      SampleAdmission::Grant grant,
      admission_->Admit(
          recipe.tenant_id, core::SamplingWorkingBytes(config, params.width, params.height, guided),
          [&] { return sink.Cancelled(); },
          [&](int ahead) { sink.Progress(rpc::SamplePhase::kQueued, ahead, 0); }));
  const std::string key = CacheKey(recipe);
  if (!cache_->Contains(key)) sink.Progress(rpc::SamplePhase::kLoading, 0, 0);
  STAMINA_ASSIGN_OR_RETURN(FoldedModelCache::Model model,
                           LoadModel(options_, *library_, *cache_, recipe));
  std::atomic<bool> cancelled{sink.Cancelled()};
  absl::StatusOr<std::vector<core::Image>> generated;
  auto generate = [&] {
    generated = core::GenerateImages(
        model->model,
        {.prompt = params.prompt,
         .negative_prompt = params.negative_prompt,
         .count = params.count,
         .steps = params.steps,
         .guidance_scale = params.guidance_scale,
         .seed = params.seed,
         .width = params.width,
         .height = params.height,
         .sampler = params.sampler},
        [&](const core::DenoisingProgress& p) {
          sink.Progress(rpc::SamplePhase::kDenoising, p.step, p.total_steps);
          if (sink.Cancelled()) cancelled = true;
        },
        &cancelled);
  };
  if (threads_ != nullptr) {
    threads_->Run(generate);
  } else {
    generate();
  }
  STAMINA_ASSIGN_OR_RETURN(std::vector<core::Image> images, std::move(generated));
  sink.Progress(rpc::SamplePhase::kDecoding, params.steps, params.steps);
  for (size_t i = 0; i < images.size(); ++i) {
    if (sink.Cancelled()) return absl::CancelledError("the caller went away");
    const int width = images[i].width;
    const int height = images[i].height;
    STAMINA_ASSIGN_OR_RETURN(
        std::string png,
        images::EncodePng({.width = width, .height = height, .rgb = std::move(images[i].pixels)}));
    STAMINA_RETURN_IF_ERROR(sink.Image({.index = static_cast<int>(i),
                                        .png = std::move(png),
                                        .width = width,
                                        .height = height,
                                        .seed = params.seed + static_cast<int64_t>(i)}));
  }
  return absl::OkStatus();
}

absl::Status InProcessSampler::ExportDiffusers(const rpc::ModelRecipe& recipe, bool half_precision,
                                               rpc::ExportSink& sink) {
  // A slot, so an export does not run beside as many samplings as the
  // budget allows; its transient memory is a serialized copy of the largest
  // network (core/io/safetensors writes whole files from memory).
  STAMINA_ASSIGN_OR_RETURN(
      SampleAdmission::Grant grant,
      admission_->Admit(
          recipe.tenant_id, 0, [&] { return sink.Cancelled(); }, [](int /*ahead*/) {}));
  STAMINA_ASSIGN_OR_RETURN(FoldedModelCache::Model model,
                           LoadModel(options_, *library_, *cache_, recipe));
  std::string pattern = (std::filesystem::temp_directory_path() / "stamina-export-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("cannot create a folder like ", pattern));
  }
  const std::filesystem::path dir(pattern);
  struct RemoveOnExit {
    std::filesystem::path path;
    ~RemoveOnExit() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  } remove{dir};
  STAMINA_RETURN_IF_ERROR(
      core::SaveDiffusersModel(model->model, dir.string(), {.half_precision = half_precision}));
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) {
      files.push_back(std::filesystem::relative(entry.path(), dir).generic_string());
    }
  }
  std::sort(files.begin(), files.end());
  std::string buffer(rpc::kExportPieceBytes, '\0');
  for (const std::string& file : files) {
    std::ifstream in(dir / file, std::ios::binary);
    const int64_t size = static_cast<int64_t>(std::filesystem::file_size(dir / file));
    int64_t offset = 0;
    do {
      if (sink.Cancelled()) return absl::CancelledError("the caller went away");
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      const int64_t got = in.gcount();
      if (got <= 0 && offset < size) {
        return absl::InternalError(absl::StrCat("cannot read the export's ", file));
      }
      STAMINA_RETURN_IF_ERROR(
          sink.Piece(file, offset, absl::string_view(buffer.data(), got), size));
      offset += got;
    } while (offset < size);
  }
  return absl::OkStatus();
}

std::string InProcessSampler::CacheKey(const rpc::ModelRecipe& recipe) {
  return absl::StrCat(recipe.base_model_id, "@", recipe.base_model_digest, "+",
                      absl::StrJoin(recipe.adapter_digests, "+"));
}

int InProcessSampler::Forget(const std::vector<std::string>& digests) {
  if (digests.empty()) return 0;
  const absl::flat_hash_set<std::string> doomed(digests.begin(), digests.end());
  // A key is base@digest+adapter+adapter...: split off the adapters.
  return cache_->EraseIf([&](const std::string& key) {
    const std::vector<std::string> parts = absl::StrSplit(key, '+');
    for (size_t i = 1; i < parts.size(); ++i) {
      if (doomed.contains(parts[i])) return true;
    }
    return false;
  });
}

bool InProcessSampler::IsCached(const rpc::ModelRecipe& recipe) const {
  return cache_->Contains(CacheKey(recipe));
}

std::vector<InProcessSampler::CachedModel> InProcessSampler::CachedModels() const {
  std::vector<CachedModel> models;
  for (const FoldedModelCache::EntryInfo& entry : cache_->Entries()) {
    models.push_back({.key = entry.key, .bytes = entry.bytes});
  }
  return models;
}

std::vector<std::string> InProcessSampler::BaseModelIds() const {
  std::vector<std::string> ids;
  for (const worker::ResolvedBaseModel& base : options_.base_models) ids.push_back(base.id);
  return ids;
}

std::optional<rpc::BaseModelSampling> InProcessSampler::SamplingOf(
    const std::string& base_model_id) const {
  absl::StatusOr<core::DiffusionModelConfig> config = library_->Config(base_model_id);
  if (!config.ok()) return std::nullopt;
  return rpc::BaseModelSampling{
      .native_side = static_cast<int>(core::NativeSampleSide(*config)),
      .max_side = static_cast<int>(core::MaxSampleSide(*config, options_.memory_budget_bytes)),
      .tokens = config->concept_tokens};
}

rpc::SamplerStats InProcessSampler::Stats() const {
  const FoldedModelCache::Stats s = cache_->stats();
  const SampleAdmission::Stats queue = admission_->stats();
  return {.hits = s.hits,
          .misses = s.misses,
          .evictions = s.evictions,
          .bytes = s.bytes,
          .entries = s.entries,
          .running = queue.running,
          .waiting = queue.waiting,
          .working_bytes = queue.bytes_in_use,
          .refused_busy = queue.refused_busy};
}

}  // namespace stamina::sampler
