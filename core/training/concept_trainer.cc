#include "core/training/concept_trainer.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>

#include "ATen/CPUGeneratorImpl.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/status_macros.h"
#include "core/adapters/context_preservation.h"
#include "core/pipelines/image_tensor.h"
#include "core/pipelines/text_to_image_pipeline.h"
#include "core/schedulers/ddpm_scheduler.h"
#include "core/torch_status.h"
#include "core/training/denoising_loss.h"

namespace stamina::core {
namespace {

absl::Status Validate(const ConceptTrainingRequest& request) {
  const ConceptTrainingOptions& o = request.training;
  if (o.steps < 1) return absl::InvalidArgumentError("steps must be >= 1");
  if (o.batch_size < 1) return absl::InvalidArgumentError("batch_size must be >= 1");
  if (!(o.lora_learning_rate > 0) || !(o.mask_learning_rate > 0) || !(o.token_learning_rate > 0)) {
    return absl::InvalidArgumentError("learning rates must be > 0");
  }
  if (o.max_shift < 0) return absl::InvalidArgumentError("max_shift must be >= 0");
  if (o.early_stop_every < 0 || o.early_stop_min_steps < 0 || o.early_stop_draws < 1 ||
      !(o.early_stop_min_gain >= 0)) {
    return absl::InvalidArgumentError(
        "early_stop_every, early_stop_min_steps must be >= 0, early_stop_draws >= 1, "
        "early_stop_min_gain >= 0");
  }
  if (o.micro_batch_size < 0) {
    return absl::InvalidArgumentError("micro_batch_size must be >= 0");
  }
  if (request.images.empty()) {
    return absl::InvalidArgumentError("images: at least one image");
  }
  for (const Image& image : request.images) {
    if (image.width != request.images[0].width || image.height != request.images[0].height ||
        image.width == 0) {
      return absl::InvalidArgumentError("images: all must have the same size");
    }
  }
  if (!request.captions.empty()) {
    if (request.captions.size() != request.images.size()) {
      return absl::InvalidArgumentError("captions: one per image, or none");
    }
    for (const std::string& caption : request.captions) {
      if (!absl::StrContains(caption, request.adapter.token)) {
        return absl::InvalidArgumentError(
            absl::StrCat("captions: \"", caption, "\" does not contain ", request.adapter.token));
      }
    }
  } else if (!absl::StrContains(o.prompt, "{token}")) {
    return absl::InvalidArgumentError("prompt must contain {token}");
  }
  return absl::OkStatus();
}

// Turns requires_grad off for every base weight and back on when destroyed.
class FrozenWeights {
 public:
  explicit FrozenWeights(DiffusionModel& model) {
    for (torch::nn::Module* module : {static_cast<torch::nn::Module*>(model.unet.get()),
                                      static_cast<torch::nn::Module*>(model.vae.get()),
                                      static_cast<torch::nn::Module*>(model.text_encoder.get())}) {
      for (torch::Tensor& p : module->parameters()) {
        if (p.requires_grad()) {
          p.requires_grad_(false);
          frozen_.push_back(p);
        }
      }
    }
  }
  ~FrozenWeights() {
    for (torch::Tensor& p : frozen_) p.requires_grad_(true);
  }

 private:
  std::vector<torch::Tensor> frozen_;
};

// Picks, flips and shifts `batch` images of `pixels` [N, 3, H, W].
std::pair<torch::Tensor, std::vector<int64_t>> AugmentedBatch(const torch::Tensor& pixels,
                                                              const ConceptTrainingOptions& options,
                                                              at::Generator& generator) {
  const int64_t count = pixels.size(0);
  const int64_t height = pixels.size(2), width = pixels.size(3);
  const int64_t shift = options.max_shift;
  const torch::Tensor picks = torch::randint(0, count, {options.batch_size}, generator,
                                             torch::TensorOptions().dtype(torch::kLong));
  const torch::Tensor flips = torch::rand({options.batch_size}, generator);
  const torch::Tensor offsets = torch::randint(0, 2 * shift + 1, {options.batch_size, 2}, generator,
                                               torch::TensorOptions().dtype(torch::kLong));
  std::vector<torch::Tensor> images;
  std::vector<int64_t> indices;
  for (int64_t i = 0; i < options.batch_size; ++i) {
    const int64_t index = picks[i].item<int64_t>();
    torch::Tensor image = pixels[index];
    if (options.flip && flips[i].item<float>() < 0.5f) image = image.flip({2});
    if (shift > 0) {
      const torch::Tensor padded = torch::nn::functional::pad(
          image.unsqueeze(0), torch::nn::functional::PadFuncOptions({shift, shift, shift, shift})
                                  .mode(torch::kReplicate))[0];
      const int64_t dy = offsets[i][0].item<int64_t>();
      const int64_t dx = offsets[i][1].item<int64_t>();
      image = padded.slice(1, dy, dy + height).slice(2, dx, dx + width);
    }
    images.push_back(image);
    indices.push_back(index);
  }
  return {torch::stack(images), indices};
}

// The gradients of one step: the denoising loss of `batch` plus `extra`
// (the adapter's regularization), backpropagated. With `micro` smaller than
// the batch, the loss is accumulated over micro-batches, each weighted by
// its share of the batch (the same mean, up to float rounding). Returns the
// batch's denoising loss and `extra`, both before backward.
absl::StatusOr<std::pair<torch::Tensor, torch::Tensor>> StepGradients(
    DiffusionModel& model, const DDPMScheduler& scheduler, ConceptAdapter& adapter,
    const torch::Tensor& batch, const torch::Tensor& ids, const NoiseDraw& draw, int micro,
    RegularizationTerms* terms) {
  const int64_t size = batch.size(0);
  if (micro >= size) {
    STAMINA_ASSIGN_OR_RETURN(torch::Tensor loss, DenoisingLoss(model, scheduler, batch, ids, draw));
    STAMINA_ASSIGN_OR_RETURN(torch::Tensor extra, adapter.Regularization(terms));
    STAMINA_RETURN_IF_ERROR(RunTorchVoid([&] { (loss + extra).backward(); }));
    return std::make_pair(loss, extra);
  }
  torch::Tensor total;
  for (int64_t start = 0; start < size; start += micro) {
    const int64_t end = std::min<int64_t>(size, start + micro);
    const NoiseDraw part{.latent_noise = draw.latent_noise.slice(0, start, end),
                         .noise = draw.noise.slice(0, start, end),
                         .timesteps = draw.timesteps.slice(0, start, end)};
    STAMINA_ASSIGN_OR_RETURN(torch::Tensor loss,
                             DenoisingLoss(model, scheduler, batch.slice(0, start, end),
                                           ids.slice(0, start, end), part));
    STAMINA_RETURN_IF_ERROR(RunTorchVoid([&] {
      const torch::Tensor weighted = loss * (static_cast<double>(end - start) / size);
      weighted.backward();
      total = total.defined() ? total + weighted.detach() : weighted.detach();
    }));
  }
  STAMINA_ASSIGN_OR_RETURN(torch::Tensor extra, adapter.Regularization(terms));
  STAMINA_RETURN_IF_ERROR(RunTorchVoid([&] { extra.backward(); }));
  return std::make_pair(total, extra);
}

// The fixed draw the early-stopping checks score: every image, unaugmented,
// `draws` times at evenly spaced timesteps, with noise from a generator of
// its own.
struct CheckDraw {
  torch::Tensor pixels;
  torch::Tensor ids;
  NoiseDraw noise;
};

absl::StatusOr<CheckDraw> MakeCheckDraw(const DiffusionModel& model, const torch::Tensor& pixels,
                                        const torch::Tensor& ids, int draws, uint64_t seed,
                                        int64_t train_timesteps) {
  at::Generator generator = at::detail::createCPUGenerator(seed ^ 0xC2B2AE3D27D4EB4Full);
  CheckDraw check;
  check.pixels = pixels.repeat({draws, 1, 1, 1}).to(ModelDevice(model));
  check.ids = ids.repeat({draws, 1}).to(ModelDevice(model));
  const int64_t count = check.pixels.size(0);
  STAMINA_ASSIGN_OR_RETURN(check.noise,
                           DrawNoise(model, count, pixels.size(2), pixels.size(3), generator));
  // Draw d of every image at the middle of the d-th of `draws` equal spans.
  std::vector<int64_t> timesteps;
  for (int d = 0; d < draws; ++d) {
    timesteps.insert(timesteps.end(), pixels.size(0), (2 * d + 1) * train_timesteps / (2 * draws));
  }
  return RunTorch([&] {
    check.noise.timesteps =
        torch::tensor(timesteps, torch::kLong).to(check.noise.timesteps.device());
    return check;
  });
}

absl::StatusOr<double> CheckLoss(DiffusionModel& model, const DDPMScheduler& scheduler,
                                 const CheckDraw& check) {
  torch::NoGradGuard no_grad;
  STAMINA_ASSIGN_OR_RETURN(torch::Tensor loss,
                           DenoisingLoss(model, scheduler, check.pixels, check.ids, check.noise));
  return RunTorch([&] { return loss.item<double>(); });
}

}  // namespace

absl::StatusOr<ConceptTrainingResult> TrainConcept(
    DiffusionModel& model, const ContinualState& state, const ConceptTrainingRequest& request,
    const std::function<void(const ConceptTrainingProgress&)>& progress,
    const std::atomic<bool>* stop) {
  STAMINA_RETURN_IF_ERROR(Validate(request));
  ConceptTrainingResult result;
  const ConceptTrainingOptions& options = request.training;
  const auto start = std::chrono::steady_clock::now();
  const auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  std::vector<std::string> captions = request.captions;
  if (captions.empty()) {
    captions.assign(request.images.size(),
                    absl::StrReplaceAll(options.prompt, {{"{token}", request.adapter.token}}));
  }
  ConceptAdapterOptions adapter_options = request.adapter;
  if (adapter_options.config.context != ContextPreservation::kNone &&
      adapter_options.preserved_prompts.empty()) {
    adapter_options.preserved_prompts =
        PreservedPrompts(*model.tokenizer, adapter_options.token, captions);
  }
  STAMINA_ASSIGN_OR_RETURN(std::unique_ptr<ConceptAdapter> adapter,
                           ConceptAdapter::Create(model, state, adapter_options));
  result.context_rank = adapter->context_rank();
  STAMINA_ASSIGN_OR_RETURN(torch::Tensor all_ids, TokenizeBatch(*model.tokenizer, captions));
  STAMINA_ASSIGN_OR_RETURN(DDPMScheduler scheduler,
                           DDPMScheduler::Create(model.config.training_scheduler));
  FrozenWeights frozen(model);
  model.unet->eval();
  model.vae->eval();
  model.text_encoder->eval();

  result.trainable_parameters = adapter->trainable_parameter_count();
  std::vector<double> step_losses;
  absl::Status step_status;  // an error inside the loop
  absl::Status trained = RunTorchVoid([&] {
    const torch::Tensor pixels = ImagesToTensor(request.images);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(
        adapter->LoraParameters(),
        std::make_unique<torch::optim::AdamWOptions>(
            torch::optim::AdamWOptions(options.lora_learning_rate).weight_decay(0)));
    if (std::vector<torch::Tensor> mask = adapter->MaskParameters(); !mask.empty()) {
      groups.emplace_back(
          mask, std::make_unique<torch::optim::AdamWOptions>(
                    torch::optim::AdamWOptions(options.mask_learning_rate).weight_decay(0)));
    }
    groups.emplace_back(
        adapter->TokenParameters(),
        std::make_unique<torch::optim::AdamWOptions>(
            torch::optim::AdamWOptions(options.token_learning_rate).weight_decay(0)));
    torch::optim::AdamW optimizer(std::move(groups));
    at::Generator generator =
        at::detail::createCPUGenerator(request.adapter.seed ^ 0x9E3779B97F4A7C15ull);
    int micro = options.micro_batch_size > 0
                    ? std::min(options.micro_batch_size, options.batch_size)
                    : options.batch_size;
    std::optional<CheckDraw> check;
    if (options.early_stop_every > 0) {
      absl::StatusOr<CheckDraw> made =
          MakeCheckDraw(model, pixels, all_ids, options.early_stop_draws, request.adapter.seed,
                        model.config.training_scheduler.num_train_timesteps);
      if (!made.ok()) {
        step_status = made.status();
        return;
      }
      check = *std::move(made);
    }
    for (int step = 0; step < options.steps; ++step) {
      if (stop && stop->load()) return;
      if (check && step % options.early_stop_every == 0) {
        absl::StatusOr<double> loss = CheckLoss(model, scheduler, *check);
        if (!loss.ok()) {
          step_status = loss.status();
          return;
        }
        const bool stalled = !result.check_losses.empty() &&
                             result.check_losses.back() - *loss <
                                 options.early_stop_min_gain * result.check_losses.back();
        result.check_losses.push_back(*loss);
        if (stalled && step >= options.early_stop_min_steps) break;
      }
      adapter->set_training_fraction(static_cast<double>(step) / options.steps);
      // Augmented on the CPU (the draws come from the CPU generator), then
      // moved: a small copy per step.
      auto [cpu_batch, indices] = AugmentedBatch(pixels, options, generator);
      const torch::Tensor batch = cpu_batch.to(ModelDevice(model));
      const torch::Tensor ids =
          all_ids.index_select(0, torch::tensor(indices, torch::kLong)).to(ModelDevice(model));
      absl::StatusOr<NoiseDraw> draw =
          DrawNoise(model, batch.size(0), batch.size(2), batch.size(3), generator);
      if (!draw.ok()) {
        step_status = draw.status();
        return;
      }
      RegularizationTerms terms;
      absl::StatusOr<std::pair<torch::Tensor, torch::Tensor>> gradients;
      while (true) {
        optimizer.zero_grad();
        gradients = StepGradients(model, scheduler, *adapter, batch, ids, *draw, micro, &terms);
        if (gradients.ok() || !absl::IsResourceExhausted(gradients.status()) || micro == 1) {
          break;
        }
        micro = (micro + 1) / 2;  // out of memory: the same step in smaller passes
      }
      if (!gradients.ok()) {
        step_status = gradients.status();
        return;
      }
      const auto& [loss, extra] = *gradients;
      optimizer.step();
      const double loss_value = loss.item<double>();
      step_losses.push_back(loss_value);
      result.steps = step + 1;
      result.last_terms = terms;
      if (progress) {
        const double seconds = elapsed();
        progress({.step = step + 1,
                  .total_steps = options.steps,
                  .loss = loss_value,
                  .regularization = extra.item<double>(),
                  .seconds = seconds,
                  .eta_seconds = seconds / (step + 1) * (options.steps - step - 1)});
      }
    }
    result.micro_batch_size = micro;
  });
  STAMINA_RETURN_IF_ERROR(trained) << "training " << request.adapter.token;
  STAMINA_RETURN_IF_ERROR(step_status) << "training " << request.adapter.token;
  if (stop && stop->load()) {
    return absl::CancelledError(absl::StrCat("training of ", request.adapter.token, " cancelled"));
  }
  std::map<std::string, std::string> metadata = request.metadata;
  metadata["steps"] = absl::StrCat(result.steps);
  metadata["batch_size"] = absl::StrCat(options.batch_size);
  if (result.micro_batch_size < options.batch_size) {
    metadata["micro_batch_size"] = absl::StrCat(result.micro_batch_size);
  }
  STAMINA_ASSIGN_OR_RETURN(result.artifact, adapter->Export(metadata));
  result.mask_density = adapter->MaskDensity();
  const size_t tail = std::min(step_losses.size(), std::max<size_t>(1, step_losses.size() / 10));
  if (tail > 0) {
    double tail_loss = 0;
    for (size_t i = step_losses.size() - tail; i < step_losses.size(); ++i) {
      tail_loss += step_losses[i];
    }
    result.final_loss = tail_loss / tail;
  }
  result.seconds = elapsed();
  return result;
}

}  // namespace stamina::core
