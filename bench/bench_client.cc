#include "bench/bench_client.h"

#include <algorithm>
#include <fstream>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/world/attributes.h"
#include "core/world/png.h"
#include "core/world/renderer.h"

namespace stamina::bench {

BenchClient::BenchClient(const std::string& address, std::string key)
    : channel_(grpc::CreateChannel(address, grpc::InsecureChannelCredentials())),
      key_(std::move(key)),
      models_(v1::ModelService::NewStub(channel_)),
      concepts_(v1::ConceptService::NewStub(channel_)),
      training_(v1::TrainingService::NewStub(channel_)),
      sampler_(v1::SamplerService::NewStub(channel_)) {}

std::unique_ptr<grpc::ClientContext> BenchClient::Call() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", "Bearer " + key_);
  return context;
}

grpc::Status BenchClient::CreateModel(const std::string& model, const std::string& base) const {
  v1::CreateModelRequest request;
  request.set_model_id(model);
  request.mutable_model()->set_base_model("baseModels/" + base);
  v1::Model created;
  return models_->CreateModel(Call().get(), request, &created);
}

grpc::Status BenchClient::CreateConcept(const std::string& model, const std::string& concept_id,
                                        const std::string& token) const {
  v1::CreateConceptRequest request;
  request.set_parent("models/" + model);
  request.set_concept_id(concept_id);
  request.mutable_concept()->set_token(token);
  request.mutable_concept()->add_caption_templates("a photo of {}");
  v1::Concept created;
  return concepts_->CreateConcept(Call().get(), request, &created);
}

grpc::Status BenchClient::Upload(const std::string& model, const std::string& concept_id,
                                 const std::vector<std::string>& pngs) const {
  auto context = Call();
  v1::UploadImagesResponse response;
  auto writer = concepts_->UploadImages(context.get(), &response);
  v1::UploadImagesRequest message;
  message.mutable_header()->set_parent(absl::StrCat("models/", model, "/concepts/", concept_id));
  bool open = writer->Write(message);
  for (size_t i = 0; open && i < pngs.size(); ++i) {
    message.Clear();
    message.mutable_image_start()->set_filename(absl::StrCat(concept_id, i, ".png"));
    message.mutable_image_start()->set_size_bytes(static_cast<int64_t>(pngs[i].size()));
    open = writer->Write(message);
    message.Clear();
    message.set_chunk(pngs[i]);
    open = open && writer->Write(message);
  }
  writer->WritesDone();
  return writer->Finish();
}

grpc::Status BenchClient::ListImages(const std::string& model, const std::string& concept_id,
                                     int* count) const {
  v1::ListImagesRequest request;
  request.set_parent(absl::StrCat("models/", model, "/concepts/", concept_id));
  v1::ListImagesResponse response;
  grpc::Status status = concepts_->ListImages(Call().get(), request, &response);
  *count = response.images_size();
  return status;
}

grpc::Status BenchClient::DeleteConcept(const std::string& model,
                                        const std::string& concept_id) const {
  v1::DeleteConceptRequest request;
  request.set_name(absl::StrCat("models/", model, "/concepts/", concept_id));
  request.set_force(true);
  v1::DeleteConceptResponse response;
  return concepts_->DeleteConcept(Call().get(), request, &response);
}

grpc::Status BenchClient::Train(const std::string& model, const std::string& concept_id,
                                int steps, v1::Job* job) const {
  v1::TrainConceptRequest request;
  request.set_parent("models/" + model);
  request.set_concept(absl::StrCat("models/", model, "/concepts/", concept_id));
  request.mutable_settings()->set_steps(steps);
  grpc::Status status = training_->TrainConcept(Call().get(), request, job);
  if (!status.ok()) return status;
  v1::WatchJobRequest watch;
  watch.set_name(job->name());
  auto context = Call();
  auto reader = training_->WatchJob(context.get(), watch);
  v1::WatchJobResponse update;
  while (reader->Read(&update)) *job = update.job();
  return reader->Finish();
}

grpc::Status BenchClient::AdapterDigests(const std::string& model,
                                         std::vector<std::string>* digests) const {
  v1::GetLineageRequest request;
  request.set_name("models/" + model);
  v1::Lineage lineage;
  grpc::Status status = models_->GetLineage(Call().get(), request, &lineage);
  for (const v1::LineageEntry& entry : lineage.entries()) {
    digests->push_back(entry.adapter_digest());
  }
  return status;
}

grpc::Status BenchClient::Sample(const std::string& model, const std::string& prompt,
                                 int images, int steps, float guidance, int64_t seed,
                                 int* received) const {
  v1::SampleRequest request;
  request.set_model("models/" + model);
  request.set_prompt(prompt);
  request.set_image_count(images);
  request.set_steps(steps);
  request.set_guidance_scale(guidance);
  request.set_seed(seed);
  auto context = Call();
  auto reader = sampler_->Sample(context.get(), request);
  v1::SampleResponse response;
  *received = 0;
  while (reader->Read(&response)) *received += response.has_image() ? 1 : 0;
  return reader->Finish();
}

std::vector<std::string> ReservedFacePngs(int count, uint64_t first_seed) {
  const core::FaceIdentity face = core::FaceIdentity::FromSeed(core::kReservedIdentitySeedStart);
  std::vector<std::string> pngs;
  for (int r = 0; r < count; ++r) {
    const core::RenderParams params =
        r == 0 ? core::RenderParams{}
               : core::RenderParams::FromSeed(first_seed + static_cast<uint64_t>(r - 1), 32,
                                              core::ContrastingBackgrounds(face));
    absl::StatusOr<std::string> png = core::EncodePng(core::RenderFace(face, params));
    if (png.ok()) pngs.push_back(std::move(*png));
  }
  return pngs;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t i = static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(i, values.size() - 1)];
}

std::string MachineName() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, cpu = "unknown CPU";
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      cpu = colon == std::string::npos ? line : line.substr(colon + 2);
      break;
    }
  }
  return absl::StrCat(cpu, ", ", std::thread::hardware_concurrency(), " cores");
}

}  // namespace stamina::bench
