// SamplerService commands: capabilities and sample.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/command_groups.h"
#include "cli/format.h"
#include "cli/progress_bar.h"
#include "common/status_macros.h"

namespace stamina::cli {
namespace {

absl::Status WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out)
    return absl::PermissionDeniedError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

std::string SampleLabel(const v1::SampleProgress& progress, int images,
                        int total) {
  std::string label =
      ShortEnum(v1::SamplePhase_Name(progress.phase()), "SAMPLE_PHASE_");
  if (progress.phase() == v1::SAMPLE_PHASE_QUEUED) {
    absl::StrAppend(&label, ", ", progress.step(), " ahead");
  } else if (progress.total_steps() > 0) {
    absl::StrAppend(&label, " step ", progress.step(), "/",
                    progress.total_steps());
  }
  absl::StrAppend(&label, ", ", images, "/", total, " images");
  return label;
}

}  // namespace

absl::StatusOr<int> Capabilities(Session& session, const Operands&) {
  v1::Capabilities capabilities;
  STAMINA_RETURN_IF_ERROR(FromGrpc(session.sampler().GetCapabilities(
      session.NewContext().get(), {}, &capabilities)));
  std::ostream& out = session.out();
  out << "server_version: " << capabilities.server_version() << '\n';
  std::vector<std::string> methods;
  for (int method : capabilities.training_methods()) {
    methods.push_back(MethodName(static_cast<v1::TrainingMethod>(method)));
  }
  out << "training_methods: " << absl::StrJoin(methods, ", ") << '\n';
  std::vector<std::vector<std::string>> rows;
  for (const v1::BaseModel& base : capabilities.base_models()) {
    rows.push_back({base.name(), absl::StrCat(base.resolution()),
                    absl::StrCat(base.max_sample_side()),
                    absl::StrCat(base.default_training_steps()),
                    absl::StrCat(base.default_sample_steps()),
                    absl::StrFormat("%g", base.default_guidance_scale()),
                    Prefix(base.digest(), 12)});
  }
  out << "base_models:\n";
  PrintTable(out,
             {"NAME", "RESOLUTION", "MAX SIDE", "TRAIN STEPS", "SAMPLE STEPS",
              "GUIDANCE", "DIGEST"},
             rows);
  std::vector<std::vector<std::string>> devices;
  for (const v1::ComputeDevice& device : capabilities.devices()) {
    devices.push_back({device.role(), device.device(), device.description(),
                       device.memory_bytes() > 0 ? FormatBytes(device.memory_bytes()) : "-",
                       device.compute_dtype(), absl::StrCat(device.processes())});
  }
  out << "devices:\n";
  PrintTable(out, {"ROLE", "DEVICE", "DESCRIPTION", "MEMORY", "COMPUTE", "PROCESSES"}, devices);
  const v1::Limits& limits = capabilities.limits();
  out << "limits:\n";
  PrintTable(
      out, {"LIMIT", "VALUE"},
      {{"images per concept", absl::StrCat(limits.min_images_per_concept(), "-",
                                           limits.max_images_per_concept())},
       {"image bytes", FormatBytes(limits.max_image_bytes())},
       {"image pixels", absl::StrCat(limits.max_image_pixels())},
       {"min image side", absl::StrCat(limits.min_image_side())},
       {"upload bytes", FormatBytes(limits.max_upload_bytes())},
       {"image types", absl::StrJoin(limits.image_mime_types(), ", ")},
       {"queued jobs per tenant",
        absl::StrCat(limits.max_queued_jobs_per_tenant())},
       {"concepts per model", absl::StrCat(limits.max_concepts_per_model())},
       {"models per tenant", absl::StrCat(limits.max_models_per_tenant())},
       {"stored bytes per tenant", limits.max_stored_bytes_per_tenant() > 0
                                       ? FormatBytes(limits.max_stored_bytes_per_tenant())
                                       : "no quota"},
       {"training steps", absl::StrCat(limits.min_training_steps(), "-",
                                       limits.max_training_steps())},
       {"sample steps", absl::StrCat(limits.min_sample_steps(), "-",
                                     limits.max_sample_steps())},
       {"images per sample", absl::StrCat(limits.max_images_per_sample())},
       {"sample side",
        absl::StrCat(limits.min_sample_side(), "-", limits.max_sample_side())},
       {"guidance scale", absl::StrFormat("%g", limits.max_guidance_scale())},
       {"prompt length", absl::StrCat(limits.max_prompt_length())}});
  return kExitOk;
}

absl::StatusOr<int> Sample(Session& session, const Operands& operands) {
  const CommandFlags& flags = session.flags();
  if (flags.prompt.empty())
    return absl::InvalidArgumentError("sample needs --prompt");
  v1::SampleRequest request;
  request.set_model(ModelName(operands[0]));
  if (flags.version > 0) {
    request.set_version(
        ChildName(operands[0], "versions", absl::StrCat(flags.version)));
  }
  request.set_prompt(flags.prompt);
  request.set_image_count(flags.count);
  if (flags.sampler == "ddim") {
    request.set_sampler(v1::SAMPLER_DDIM);
  } else if (flags.sampler == "pndm") {
    request.set_sampler(v1::SAMPLER_PNDM);
  } else if (flags.sampler == "euler") {
    request.set_sampler(v1::SAMPLER_EULER);
  } else if (!flags.sampler.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--sampler: \"", flags.sampler, "\" is not ddim, pndm or euler"));
  }
  request.set_steps(flags.steps);
  request.set_guidance_scale(static_cast<float>(flags.guidance));
  request.set_seed(flags.seed);
  std::error_code error;
  std::filesystem::create_directories(flags.out_dir, error);
  if (error) {
    return absl::PermissionDeniedError(
        absl::StrCat(flags.out_dir, ": ", error.message()));
  }

  ProgressBar bar(session.err(),
                  {.tty = session.options().progress_tty,
                   .min_interval = session.options().progress_interval,
                   .clock = session.options().clock});
  const int total = flags.count > 0 ? flags.count : 1;
  auto context = session.NewContext(/*deadline=*/false);
  auto reader = session.sampler().Sample(context.get(), request);
  v1::SampleResponse response;
  std::vector<std::string> paths;
  v1::SampleProgress progress;
  absl::Status local;
  bool seen = false;
  while (local.ok() && reader->Read(&response)) {
    seen = true;
    if (response.has_progress()) {
      progress = response.progress();
    } else if (response.has_image()) {
      const v1::GeneratedImage& image = response.image();
      const std::string version =
          image.version().empty() ? "0" : LastSegment(image.version());
      const std::string path =
          absl::StrCat(flags.out_dir, "/", LastSegment(request.model()), "-v",
                       version, "-", image.index(), ".png");
      local = WriteFile(path, image.png());
      paths.push_back(path);
    }
    const double fraction =
        progress.total_steps() > 0
            ? static_cast<double>(progress.step()) / progress.total_steps()
            : -1.0;
    bar.Update(fraction,
               SampleLabel(progress, static_cast<int>(paths.size()), total));
  }
  if (!local.ok()) context->TryCancel();
  const absl::Status status = FromGrpc(reader->Finish());
  if (seen) {
    bar.Finish(paths.size() == static_cast<size_t>(total) ? 1.0 : -1.0,
               SampleLabel(progress, static_cast<int>(paths.size()), total));
  }
  STAMINA_RETURN_IF_ERROR(local);
  STAMINA_RETURN_IF_ERROR(status);
  for (const std::string& path : paths) session.out() << path << '\n';
  return kExitOk;
}

}  // namespace stamina::cli
