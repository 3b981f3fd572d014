#include "core/training/pretraining.h"

#include <sys/stat.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <vector>

#include "ATen/CPUGeneratorImpl.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/io/safetensors.h"
#include "core/pipelines/base_models.h"
#include "core/pipelines/image_tensor.h"
#include "core/pipelines/text_to_image_pipeline.h"
#include "core/torch_status.h"
#include "core/training/denoising_loss.h"
#include "core/world/prng.h"
#include "core/world/renderer.h"
#include "nlohmann/json.hpp"

namespace stamina::core {
namespace {

constexpr int kVaePhase = 1;
constexpr int kDiffusionPhase = 2;
// The decoder alone, with the encoder frozen, so the latent space the UNet
// learned is unchanged (as Stable Diffusion's ft-MSE VAE was made).
constexpr int kDecoderPhase = 3;

const char* PhaseName(int phase) {
  switch (phase) {
    case kVaePhase: return "vae";
    case kDiffusionPhase: return "diffusion";
    default: return "decoder";
  }
}

// Independent streams from (seed, phase, step, item), by the world's seed
// derivation.
uint64_t Mix(uint64_t a, uint64_t b, uint64_t c = 0, uint64_t d = 0) {
  return DeriveSeed(DeriveSeed(DeriveSeed(a, b), c), d);
}

double LearningRate(double base, int step, int total, int warmup) {
  if (step < warmup) return base * (step + 1) / warmup;
  const double progress =
      static_cast<double>(step - warmup) / std::max(1, total - warmup);
  return base * (0.1 + 0.9 * 0.5 * (1.0 + std::cos(M_PI * progress)));
}

void SetLearningRate(torch::optim::AdamW& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) {
    static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
  }
}

struct State {
  int phase = kVaePhase;
  int step = 0;  // steps done in `phase`
  // For the model card: wall time over every process of the run, and a
  // moving average (0.99) of each phase's step loss; -1 = not started.
  double seconds = 0;
  double vae_loss = -1;
  double diffusion_loss = -1;
  double decoder_loss = -1;
  // The VAE's scaling_factor, measured when the VAE phase ends; -1 = not yet.
  double scaling_factor = -1;
};

double MovingAverage(double average, double value) {
  return average < 0 ? value : 0.99 * average + 0.01 * value;
}

absl::Status MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat("cannot create ", path));
}

absl::StatusOr<State> ReadState(const std::string& path) {
  std::ifstream file(path);
  if (!file) return State{};
  std::stringstream text;
  text << file.rdbuf();
  nlohmann::json json = nlohmann::json::parse(text.str(), nullptr, false);
  if (json.is_discarded() || !json.contains("phase") || !json.contains("step")) {
    return absl::DataLossError(absl::StrCat(path, ": not a pretraining state"));
  }
  State state{json["phase"].get<int>(), json["step"].get<int>()};
  state.seconds = json.value("seconds", 0.0);
  state.vae_loss = json.value("vae_loss", -1.0);
  state.diffusion_loss = json.value("diffusion_loss", -1.0);
  state.decoder_loss = json.value("decoder_loss", -1.0);
  state.scaling_factor = json.value("scaling_factor", -1.0);
  return state;
}

// The trainable tensors of the diffusion phase, in a fixed order with names.
std::vector<std::pair<std::string, torch::Tensor>> DiffusionParameters(
    DiffusionModel& model) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : model.unet->named_parameters()) {
    out.emplace_back("unet/" + item.key(), item.value());
  }
  for (const auto& item : model.text_encoder->named_parameters()) {
    out.emplace_back("text_encoder/" + item.key(), item.value());
  }
  return out;
}

class Trainer {
 public:
  Trainer(const PretrainingOptions& options, DiffusionModel model)
      : options_(options),
        model_(std::move(model)),
        checkpoint_dir_(options.out_dir + "/checkpoint") {}

  absl::Status Run(const std::function<void(const PretrainingProgress&)>& progress,
                   const std::atomic<bool>* stop);

 private:
  // Reconstruction step of kVaePhase (everything, + KL) or kDecoderPhase
  // (decoder and post_quant_conv; the encoder runs without gradients).
  absl::StatusOr<float> VaeStep(torch::optim::AdamW& optimizer, int phase, int step);
  // 1 / the standard deviation of the encoder's latents (posterior modes) on
  // kScaleBatches fresh batches, as Stable Diffusion chose its 0.18215: the
  // UNet then sees unit-variance latents, so the noise schedule's
  // signal-to-noise ratios mean what they say. (The architecture default
  // 0.18215 left this model's latents at a standard deviation of 0.22, every
  // timestep ~20x noisier than designed.)
  absl::StatusOr<double> MeasureScalingFactor();
  absl::StatusOr<float> DiffusionStep(torch::optim::AdamW& optimizer,
                                      const DDPMScheduler& scheduler, int step);
  std::pair<std::vector<Image>, std::vector<std::string>> Batch(int phase, int step);
  absl::Status SaveCheckpoint(const State& state, torch::optim::AdamW& optimizer);
  absl::Status WriteModelCard(const State& state);
  absl::Status Export(const State& state);
  void UpdateEma(int step);

  const PretrainingOptions options_;
  DiffusionModel model_;
  const std::string checkpoint_dir_;
  std::map<std::string, torch::Tensor> ema_;
};

std::pair<std::vector<Image>, std::vector<std::string>> Trainer::Batch(int phase,
                                                                       int step) {
  std::vector<Image> images;
  std::vector<std::string> captions;
  for (int i = 0; i < options_.batch_size; ++i) {
    const uint64_t r = Mix(options_.seed, phase, step, i);
    Sample sample = PretrainingSample(r);
    images.push_back(std::move(sample.image));
    const bool drop = static_cast<double>(Mix(r, 7) % 10000) / 10000.0 <
                      options_.caption_dropout;
    captions.push_back(drop ? "" : sample.caption);
  }
  return {std::move(images), std::move(captions)};
}

absl::StatusOr<float> Trainer::VaeStep(torch::optim::AdamW& optimizer, int phase,
                                       int step) {
  auto [images, captions] = Batch(phase, step);
  return RunTorch([&] {
    at::Generator generator =
        at::detail::createCPUGenerator(Mix(options_.seed, phase, step, 1u << 20));
    torch::Tensor x = ImagesToTensor(images);
    const bool whole = phase == kVaePhase;
    std::optional<DiagonalGaussianDistribution> posterior;
    {
      torch::AutoGradMode grad(whole);
      posterior.emplace(model_.vae->Encode(x));
    }
    torch::Tensor noise = torch::randn(posterior->mean().sizes(), generator);
    torch::Tensor reconstruction = model_.vae->Decode(posterior->Sample(noise));
    torch::Tensor loss = torch::mse_loss(reconstruction, x) +
                         torch::l1_loss(reconstruction, x);
    if (whole) loss = loss + options_.kl_weight * posterior->Kl().mean();
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    return loss.item<float>();
  });
}

absl::StatusOr<double> Trainer::MeasureScalingFactor() {
  constexpr int kScaleBatches = 8;
  constexpr int kScalePhase = 4;  // its own random stream
  double sum = 0, square_sum = 0, count = 0;
  for (int b = 0; b < kScaleBatches; ++b) {
    auto [images, captions] = Batch(kScalePhase, b);
    STAMINA_RETURN_IF_ERROR(RunTorch([&] {
      torch::NoGradGuard no_grad;
      const torch::Tensor latent = model_.vae->Encode(ImagesToTensor(images)).Mode();
      sum += latent.sum().item<double>();
      square_sum += latent.square().sum().item<double>();
      count += static_cast<double>(latent.numel());
    }));
  }
  const double mean = sum / count;
  const double std = std::sqrt(std::max(0.0, square_sum / count - mean * mean));
  if (!(std > 1e-6) || !std::isfinite(std)) {
    return absl::InternalError("the VAE's latents have no spread; cannot scale them");
  }
  return 1.0 / std;
}

absl::StatusOr<float> Trainer::DiffusionStep(torch::optim::AdamW& optimizer,
                                             const DDPMScheduler& scheduler,
                                             int step) {
  auto [images, captions] = Batch(kDiffusionPhase, step);
  STAMINA_ASSIGN_OR_RETURN(torch::Tensor ids, TokenizeBatch(*model_.tokenizer, captions));
  at::Generator generator = at::detail::createCPUGenerator(
      Mix(options_.seed, kDiffusionPhase, step, 1u << 20));
  torch::Tensor pixels;
  STAMINA_RETURN_IF_ERROR(RunTorch([&] { pixels = ImagesToTensor(images); }));
  STAMINA_ASSIGN_OR_RETURN(
      NoiseDraw draw, DrawNoise(model_, options_.batch_size, pixels.size(2),
                                pixels.size(3), generator));
  STAMINA_ASSIGN_OR_RETURN(torch::Tensor loss,
                           DenoisingLoss(model_, scheduler, pixels, ids, draw));
  STAMINA_RETURN_IF_ERROR(RunTorch([&] {
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
  }));
  UpdateEma(step);
  return loss.item<float>();
}

void Trainer::UpdateEma(int step) {
  torch::NoGradGuard no_grad;
  // Warm-up of the decay (as diffusers' EMAModel) so early weights fade fast.
  const double decay =
      std::min<double>(options_.ema_decay, (1.0 + step) / (10.0 + step));
  for (auto& [name, param] : DiffusionParameters(model_)) {
    auto it = ema_.find(name);
    if (it == ema_.end()) {
      ema_[name] = param.detach().clone();
    } else {
      it->second.mul_(decay).add_(param.detach(), 1.0 - decay);
    }
  }
}

absl::Status Trainer::SaveCheckpoint(const State& state,
                                     torch::optim::AdamW& optimizer) {
  STAMINA_RETURN_IF_ERROR(MakeDir(checkpoint_dir_));
  STAMINA_RETURN_IF_ERROR(SaveDiffusionModel(model_, options_.architecture,
                                             checkpoint_dir_ + "/model", {}));
  STAMINA_RETURN_IF_ERROR(
      WriteSafetensors(checkpoint_dir_ + "/ema.safetensors", ema_, {}));
  STAMINA_RETURN_IF_ERROR(RunTorch(
      [&] { torch::save(optimizer, checkpoint_dir_ + "/optimizer.pt"); }));
  // The state file is written last: it names a complete checkpoint.
  const std::string temp = checkpoint_dir_ + "/state.json.tmp";
  std::ofstream(temp) << nlohmann::json{{"phase", state.phase},
                                        {"step", state.step},
                                        {"seconds", state.seconds},
                                        {"vae_loss", state.vae_loss},
                                        {"diffusion_loss", state.diffusion_loss},
                                        {"decoder_loss", state.decoder_loss},
                                        {"scaling_factor", state.scaling_factor}}
                              .dump()
                       << "\n";
  if (std::rename(temp.c_str(), (checkpoint_dir_ + "/state.json").c_str()) != 0) {
    return absl::InternalError("cannot write checkpoint state");
  }
  return absl::OkStatus();
}

absl::Status Trainer::Export(const State& state) {
  std::map<std::string, torch::Tensor> current;
  for (auto& [name, param] : DiffusionParameters(model_)) {
    current[name] = param.detach().clone();
    auto it = ema_.find(name);
    if (it != ema_.end()) {
      torch::NoGradGuard no_grad;
      param.copy_(it->second);
    }
  }
  absl::Status saved = SaveDiffusionModel(
      model_, options_.architecture, options_.out_dir + "/model",
      {{"seed", absl::StrCat(options_.seed)},
       {"vae_steps", absl::StrCat(options_.vae_steps)},
       {"diffusion_steps", absl::StrCat(options_.diffusion_steps)},
       {"decoder_steps", absl::StrCat(options_.decoder_steps)},
       {"batch_size", absl::StrCat(options_.batch_size)},
       {"command", options_.command_line},
       {"data", "synthetic world PretrainingSample (core/world/renderer.h)"}},
      /*half_precision=*/true);
  for (auto& [name, param] : DiffusionParameters(model_)) {
    torch::NoGradGuard no_grad;
    param.copy_(current[name]);
  }
  STAMINA_RETURN_IF_ERROR(saved);
  return WriteModelCard(state);
}

absl::Status Trainer::WriteModelCard(const State& state) {
  int64_t parameters[3] = {0, 0, 0};
  const torch::nn::Module* modules[3] = {model_.text_encoder.get(), model_.unet.get(),
                                         model_.vae.get()};
  for (int m = 0; m < 3; ++m) {
    for (const torch::Tensor& p : modules[m]->parameters()) parameters[m] += p.numel();
  }
  std::ofstream card(options_.out_dir + "/model/MODEL_CARD.md");
  card << "# " << options_.architecture << "\n\n"
       << "A latent text-to-image diffusion model with Stable Diffusion's architecture "
          "(CLIPTextModel, UNet2DConditionModel, AutoencoderKL; diffusers key names), "
          "pretrained from scratch on Stamina's synthetic world (core/world/renderer.h: "
          "faces, landmarks and shapes with generic captions; reserved identities never "
          "seen). Weights are F16 safetensors (EMA of the diffusion phase).\n\n"
       << "| | |\n|---|---|\n"
       << "| parameters | text encoder " << parameters[0] << ", UNet " << parameters[1]
       << ", VAE " << parameters[2] << " |\n"
       << "| command | `" << options_.command_line << "` |\n"
       << "| seed | " << options_.seed << " |\n"
       << "| steps | VAE " << options_.vae_steps << ", diffusion " << options_.diffusion_steps
       << ", decoder " << options_.decoder_steps << ", batch " << options_.batch_size
       << " |\n"
       << "| recipe | AdamW (wd 0.01), lr " << options_.vae_learning_rate << " (VAE) / "
       << options_.diffusion_learning_rate << " (diffusion) / "
       << options_.decoder_learning_rate << " (decoder, encoder frozen), "
       << options_.warmup_steps
       << " warm-up steps then cosine to 10%, EMA " << options_.ema_decay
       << ", caption dropout " << options_.caption_dropout << ", KL weight "
       << options_.kl_weight << " |\n"
       << "| VAE scaling_factor | " << model_.config.vae.scaling_factor
       << " (1 / standard deviation of the trained encoder's latents) |\n"
       << "| final loss (moving average) | VAE " << state.vae_loss << ", diffusion "
       << state.diffusion_loss << ", decoder " << state.decoder_loss << " |\n"
       << "| wall time | " << static_cast<int>(state.seconds / 60) << " min |\n\n"
       << "Measured quality: `bazel run -c opt //bench:base_model -- --model=DIR "
          "--out=OUT` (per-attribute oracle accuracy of samples and VAE "
          "reconstructions).\n";
  if (!card) return absl::InternalError("cannot write the model card");
  return absl::OkStatus();
}

absl::Status Trainer::Run(
    const std::function<void(const PretrainingProgress&)>& progress,
    const std::atomic<bool>* stop) {
  STAMINA_RETURN_IF_ERROR(MakeDir(options_.out_dir));
  STAMINA_ASSIGN_OR_RETURN(State state, ReadState(checkpoint_dir_ + "/state.json"));
  const bool resuming = state.step > 0 || state.phase != kVaePhase;
  if (resuming) {
    STAMINA_RETURN_IF_ERROR(
        LoadDiffusionModelWeights(checkpoint_dir_ + "/model", model_));
    STAMINA_ASSIGN_OR_RETURN(Safetensors ema,
                             ReadSafetensors(checkpoint_dir_ + "/ema.safetensors"));
    ema_ = ema.tensors;
  }
  if (state.scaling_factor > 0) model_.config.vae.scaling_factor = state.scaling_factor;
  STAMINA_ASSIGN_OR_RETURN(DDPMScheduler scheduler,
                           DDPMScheduler::Create(model_.config.training_scheduler));
  const auto start = std::chrono::steady_clock::now();
  const double seconds_before = state.seconds;
  for (int phase : {kVaePhase, kDiffusionPhase, kDecoderPhase}) {
    if (state.phase > phase) continue;
    const bool diffusion = phase == kDiffusionPhase;
    const int total = phase == kVaePhase    ? options_.vae_steps
                      : diffusion           ? options_.diffusion_steps
                                            : options_.decoder_steps;
    std::vector<torch::Tensor> params;
    if (phase == kVaePhase) {
      params = model_.vae->parameters();
    } else if (diffusion) {
      for (auto& [name, p] : DiffusionParameters(model_)) params.push_back(p);
    } else {
      params = model_.vae->decoder->parameters();
      for (auto& p : model_.vae->post_quant_conv->parameters()) params.push_back(p);
    }
    const double base_lr = phase == kVaePhase ? options_.vae_learning_rate
                           : diffusion        ? options_.diffusion_learning_rate
                                              : options_.decoder_learning_rate;
    torch::optim::AdamW optimizer(
        params, torch::optim::AdamWOptions(base_lr).weight_decay(0.01));
    if (resuming && state.phase == phase && state.step > 0) {
      STAMINA_RETURN_IF_ERROR(RunTorch(
          [&] { torch::load(optimizer, checkpoint_dir_ + "/optimizer.pt"); }));
    }
    model_.vae->train(!diffusion);
    model_.unet->train(diffusion);
    model_.text_encoder->train(diffusion);
    for (int step = state.phase == phase ? state.step : 0; step < total; ++step) {
      SetLearningRate(optimizer,
                      LearningRate(base_lr, step, total, options_.warmup_steps));
      absl::StatusOr<float> loss = diffusion ? DiffusionStep(optimizer, scheduler, step)
                                             : VaeStep(optimizer, phase, step);
      STAMINA_RETURN_IF_ERROR(loss.status()) << PhaseName(phase) << " step " << step;
      double& average = phase == kVaePhase ? state.vae_loss
                        : diffusion        ? state.diffusion_loss
                                           : state.decoder_loss;
      average = MovingAverage(average, *loss);
      State done = state;
      done.phase = phase;
      done.step = step + 1;
      done.seconds = seconds_before + std::chrono::duration<double>(
                                          std::chrono::steady_clock::now() - start)
                                          .count();
      if (progress) {
        progress({.phase = PhaseName(phase),
                  .step = step + 1,
                  .total_steps = total,
                  .loss = *loss,
                  .seconds = std::chrono::duration<double>(
                                 std::chrono::steady_clock::now() - start)
                                 .count()});
      }
      const bool stopping = stop != nullptr && stop->load();
      if (stopping || (step + 1) % options_.checkpoint_every == 0) {
        STAMINA_RETURN_IF_ERROR(SaveCheckpoint(done, optimizer));
      }
      if (stopping && step + 1 < total) {
        return absl::CancelledError(absl::StrCat("stopped after ", PhaseName(phase),
                                                 " step ", step + 1, "; rerun to resume"));
      }
    }
    state.phase = phase + 1;
    state.step = 0;
    if (phase == kVaePhase) {
      STAMINA_ASSIGN_OR_RETURN(state.scaling_factor, MeasureScalingFactor());
      model_.config.vae.scaling_factor = state.scaling_factor;
    }
    state.seconds = seconds_before + std::chrono::duration<double>(
                                         std::chrono::steady_clock::now() - start)
                                         .count();
    STAMINA_RETURN_IF_ERROR(SaveCheckpoint(state, optimizer));
  }
  return Export(state);
}

}  // namespace

absl::Status RunPretraining(
    const PretrainingOptions& options,
    const std::function<void(const PretrainingProgress&)>& progress,
    const std::atomic<bool>* stop) {
  if (options.out_dir.empty()) return absl::InvalidArgumentError("out_dir: required");
  if (options.batch_size < 1 || options.vae_steps < 0 ||
      options.diffusion_steps < 0 || options.decoder_steps < 0 || options.checkpoint_every < 1 ||
      options.warmup_steps < 1) {
    return absl::InvalidArgumentError(
        "batch_size, checkpoint_every and warmup_steps must be >= 1; steps >= 0");
  }
  STAMINA_ASSIGN_OR_RETURN(DiffusionModel model,
                           CreateBaseModel(options.architecture, options.seed));
  Trainer trainer(options, std::move(model));
  return trainer.Run(progress, stop);
}

}  // namespace stamina::core
