// ConceptService commands: concepts create/list/delete and upload.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cli/command_groups.h"
#include "cli/format.h"
#include "cli/progress_bar.h"
#include "common/status_macros.h"

namespace stamina::cli {
namespace {

namespace fs = std::filesystem;

constexpr size_t kChunkBytes = 256 * 1024;

struct ImageFile {
  std::string path;
  std::string filename;
  int64_t size_bytes = 0;
};

bool HasImageExtension(const fs::path& path) {
  const std::string extension =
      absl::AsciiStrToLower(path.extension().string());
  return extension == ".png" || extension == ".jpg" || extension == ".jpeg" ||
         extension == ".webp";
}

absl::Status AddFile(const fs::path& path, std::vector<ImageFile>& files) {
  std::error_code error;
  const uintmax_t size = fs::file_size(path, error);
  if (error) {
    return absl::NotFoundError(
        absl::StrCat(path.string(), ": ", error.message()));
  }
  files.push_back(
      {path.string(), path.filename().string(), static_cast<int64_t>(size)});
  return absl::OkStatus();
}

// Named files as given; directories contribute their image files (by
// extension, not recursive), sorted by name.
absl::StatusOr<std::vector<ImageFile>> CollectImages(const Operands& paths) {
  std::vector<ImageFile> files;
  for (const std::string& path : paths) {
    std::error_code error;
    if (fs::is_directory(path, error)) {
      std::vector<fs::path> entries;
      for (const fs::directory_entry& entry :
           fs::directory_iterator(path, error)) {
        if (entry.is_regular_file(error) && HasImageExtension(entry.path())) {
          entries.push_back(entry.path());
        }
      }
      if (error)
        return absl::NotFoundError(absl::StrCat(path, ": ", error.message()));
      std::sort(entries.begin(), entries.end());
      for (const fs::path& entry : entries)
        STAMINA_RETURN_IF_ERROR(AddFile(entry, files));
    } else if (fs::is_regular_file(path, error)) {
      STAMINA_RETURN_IF_ERROR(AddFile(path, files));
    } else {
      return absl::NotFoundError(
          absl::StrCat(path, ": no such file or directory"));
    }
  }
  if (files.empty()) {
    return absl::InvalidArgumentError(
        "no .png, .jpg, .jpeg or .webp files to upload");
  }
  return files;
}

std::string UploadLabel(size_t done_files, size_t total_files, int64_t sent,
                        int64_t total) {
  return absl::StrCat("uploading ", done_files, "/", total_files, " files, ",
                      FormatBytes(sent), " / ", FormatBytes(total));
}

// Streams `files` after `header`; returns the local error if a file could
// not be read (the call is cancelled then), else the call's status.
absl::Status StreamImages(Session& session, const std::string& concept_name,
                          const std::vector<ImageFile>& files,
                          v1::UploadImagesResponse* response) {
  int64_t total = 0;
  for (const ImageFile& file : files) total += file.size_bytes;
  ProgressBar bar(session.err(),
                  {.tty = session.options().progress_tty,
                   .min_interval = session.options().progress_interval,
                   .clock = session.options().clock});
  auto context = session.NewContext();
  auto writer = session.concepts().UploadImages(context.get(), response);
  v1::UploadImagesRequest header;
  header.mutable_header()->set_parent(concept_name);
  header.mutable_header()->set_skip_invalid(session.flags().skip_invalid);
  bool open = writer->Write(header);
  int64_t sent = 0;
  absl::Status local;
  std::string buffer(kChunkBytes, '\0');
  for (size_t i = 0; open && i < files.size() && local.ok(); ++i) {
    v1::UploadImagesRequest start;
    start.mutable_image_start()->set_filename(files[i].filename);
    start.mutable_image_start()->set_size_bytes(files[i].size_bytes);
    open = writer->Write(start);
    std::ifstream in(files[i].path, std::ios::binary);
    if (!in)
      local = absl::NotFoundError(absl::StrCat(files[i].path, ": cannot open"));
    int64_t left = files[i].size_bytes;
    while (open && local.ok() && left > 0) {
      in.read(buffer.data(), static_cast<std::streamsize>(std::min<int64_t>(
                                 left, static_cast<int64_t>(kChunkBytes))));
      const std::streamsize got = in.gcount();
      if (got <= 0) {
        local = absl::DataLossError(
            absl::StrCat(files[i].path, ": file shrank while reading"));
        break;
      }
      v1::UploadImagesRequest chunk;
      chunk.set_chunk(buffer.data(), static_cast<size_t>(got));
      open = writer->Write(chunk);
      left -= got;
      sent += got;
      bar.Update(total > 0 ? static_cast<double>(sent) / total : 1.0,
                 UploadLabel(i, files.size(), sent, total));
    }
  }
  if (!local.ok()) context->TryCancel();
  writer->WritesDone();
  const absl::Status status = FromGrpc(writer->Finish());
  bar.Finish(
      total > 0 ? static_cast<double>(sent) / total : 1.0,
      UploadLabel(status.ok() ? files.size() : 0, files.size(), sent, total));
  return local.ok() ? status : local;
}

std::string OutcomeName(v1::ImageUploadResult::Outcome outcome) {
  return ShortEnum(v1::ImageUploadResult::Outcome_Name(outcome), "OUTCOME_");
}

}  // namespace

absl::StatusOr<int> ConceptsCreate(Session& session, const Operands& operands) {
  v1::CreateConceptRequest request;
  request.set_parent(ModelName(operands[0]));
  request.set_concept_id(operands[1]);
  request.mutable_concept()->set_token(operands[2]);
  if (!session.flags().caption.empty()) {
    request.mutable_concept()->add_caption_templates(session.flags().caption);
  }
  v1::Concept concept_proto;
  STAMINA_RETURN_IF_ERROR(FromGrpc(session.concepts().CreateConcept(
      session.NewContext().get(), request, &concept_proto)));
  session.out() << "created " << concept_proto.name() << " token "
                << concept_proto.token() << " state "
                << ShortEnum(v1::ConceptState_Name(concept_proto.state()),
                             "CONCEPT_STATE_")
                << '\n';
  return kExitOk;
}

absl::StatusOr<int> ConceptsList(Session& session, const Operands& operands) {
  std::vector<std::vector<std::string>> rows;
  v1::ListConceptsRequest request;
  request.set_parent(ModelName(operands[0]));
  do {
    v1::ListConceptsResponse response;
    STAMINA_RETURN_IF_ERROR(FromGrpc(session.concepts().ListConcepts(
        session.NewContext().get(), request, &response)));
    for (const v1::Concept& concept_proto : response.concepts()) {
      rows.push_back({LastSegment(concept_proto.name()), concept_proto.token(),
                      ShortEnum(v1::ConceptState_Name(concept_proto.state()),
                                "CONCEPT_STATE_"),
                      absl::StrCat(concept_proto.image_count()),
                      FormatTimestamp(concept_proto.create_time())});
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  PrintTable(session.out(), {"CONCEPT", "TOKEN", "STATE", "IMAGES", "CREATED"},
             rows);
  return kExitOk;
}

absl::StatusOr<int> ConceptsDelete(Session& session, const Operands& operands) {
  v1::DeleteConceptRequest request;
  request.set_name(ChildName(operands[0], "concepts", operands[1]));
  request.set_force(session.flags().force);
  v1::DeleteConceptResponse response;
  STAMINA_RETURN_IF_ERROR(FromGrpc(session.concepts().DeleteConcept(
      session.NewContext().get(), request, &response)));
  session.out() << "deleted " << request.name() << "; head is now "
                << (response.head_version().empty() ? "(base model)"
                                                    : response.head_version())
                << '\n';
  PrintErasure(session.out(), response.erased());
  return kExitOk;
}

absl::StatusOr<int> Upload(Session& session, const Operands& operands) {
  STAMINA_ASSIGN_OR_RETURN(
      std::vector<ImageFile> files,
      CollectImages(Operands(operands.begin() + 2, operands.end())));
  const std::string concept_name =
      ChildName(operands[0], "concepts", operands[1]);
  v1::UploadImagesResponse response;
  STAMINA_RETURN_IF_ERROR(
      StreamImages(session, concept_name, files, &response));
  std::vector<std::vector<std::string>> rows;
  for (const v1::ImageUploadResult& result : response.results()) {
    std::string detail;
    if (result.outcome() == v1::ImageUploadResult::OUTCOME_REJECTED) {
      detail = result.rejection_reason();
    } else {
      detail =
          absl::StrCat(result.image().width(), "x", result.image().height(),
                       " ", Prefix(result.image().sha256(), 12));
    }
    rows.push_back({absl::StrCat(result.index()), result.filename(),
                    OutcomeName(result.outcome()), detail});
  }
  PrintTable(session.out(), {"#", "FILE", "OUTCOME", "DETAIL"}, rows);
  session.out() << concept_name << " has " << response.image_count()
                << " images\n";
  return kExitOk;
}

}  // namespace stamina::cli
