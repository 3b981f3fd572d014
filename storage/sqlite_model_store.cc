#include "storage/sqlite_model_store.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "storage/blob_rows.h"
#include "storage/model_rows.h"
#include "storage/request_rows.h"
#include "storage/paging.h"
#include "storage/sha256.h"
#include "storage/sql_time.h"

namespace stamina::storage {
namespace {

ImageRecord ReadImage(const Statement& row) {
  return {.digest = row.ColumnText(0),
          .format = static_cast<ImageFormat>(row.ColumnInt64(1)),
          .width = static_cast<int>(row.ColumnInt64(2)),
          .height = static_cast<int>(row.ColumnInt64(3)),
          .size_bytes = row.ColumnInt64(4),
          .filename = row.ColumnText(5),
          .original_filename = row.ColumnText(8),
          .caption = row.ColumnText(6),
          .create_time = FromMicros(row.ColumnInt64(7))};
}

constexpr char kImageSelect[] =
    "SELECT i.digest, i.format, i.width, i.height, b.size_bytes, ci.filename,"
    " ci.caption, ci.create_time_us, ci.original_filename FROM concept_images ci"
    " JOIN images i ON i.digest = ci.digest JOIN blobs b ON b.digest = i.digest ";

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteModelStore>> SqliteModelStore::Create(
    Options options) {
  if (options.db == nullptr || options.clock == nullptr) {
    return absl::InvalidArgumentError("db and clock are required");
  }
  return std::unique_ptr<SqliteModelStore>(new SqliteModelStore(options));
}

absl::StatusOr<BaseModelRecord> SqliteModelStore::PutBaseModel(
    const BaseModelRecord& base) {
  STAMINA_RETURN_IF_ERROR(ValidateResourceId(base.id, "base_model.id"));
  if (!IsSha256Hex(base.digest)) {
    return absl::InvalidArgumentError("base_model.digest: not a SHA-256");
  }
  BaseModelRecord stored = base;
  STAMINA_RETURN_IF_ERROR(options_.db->Write([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(
        Statement existing,
        db.Prepare("SELECT digest, config, create_time_us FROM base_models"
                   " WHERE id = ?1"));
    STAMINA_RETURN_IF_ERROR(existing.BindText(1, base.id));
    STAMINA_ASSIGN_OR_RETURN(bool found, existing.Step());
    if (found) {
      if (existing.ColumnText(0) != base.digest) {
        return absl::AlreadyExistsError(absl::StrCat(
            "baseModels/", base.id, " is registered with another digest"));
      }
      stored.config = existing.ColumnText(1);
      stored.create_time = FromMicros(existing.ColumnInt64(2));
      return absl::OkStatus();
    }
    stored.create_time = options_.clock->Now();
    STAMINA_ASSIGN_OR_RETURN(
        Statement insert,
        db.Prepare("INSERT INTO base_models (id, digest, config,"
                   " create_time_us) VALUES (?1, ?2, ?3, ?4)"));
    STAMINA_RETURN_IF_ERROR(insert.BindText(1, base.id));
    STAMINA_RETURN_IF_ERROR(insert.BindText(2, base.digest));
    STAMINA_RETURN_IF_ERROR(insert.BindText(3, base.config));
    STAMINA_RETURN_IF_ERROR(insert.BindInt64(4, ToMicros(stored.create_time)));
    return insert.Run();
  }));
  return stored;
}

absl::StatusOr<std::vector<BaseModelRecord>>
SqliteModelStore::ListBaseModels() {
  std::vector<BaseModelRecord> bases;
  STAMINA_RETURN_IF_ERROR(options_.db->Read([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(
        Statement query,
        db.Prepare("SELECT id, digest, config, create_time_us FROM base_models"
                   " ORDER BY id"));
    while (true) {
      STAMINA_ASSIGN_OR_RETURN(bool row, query.Step());
      if (!row) return absl::OkStatus();
      bases.push_back({.id = query.ColumnText(0),
                       .digest = query.ColumnText(1),
                       .config = query.ColumnText(2),
                       .create_time = FromMicros(query.ColumnInt64(3))});
    }
  }));
  return bases;
}

absl::StatusOr<ModelRecord> SqliteModelStore::CreateModel(
    const NewModel& model) {
  STAMINA_RETURN_IF_ERROR(ValidateResourceId(model.id, "model_id"));
  ModelRecord created;
  const RequestKey key{.tenant_id = model.tenant_id,
                       .method = "CreateModel",
                       .request_id = model.request_id,
                       .request_sha256 = model.request_sha256};
  STAMINA_RETURN_IF_ERROR(options_.db->Write([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(std::optional<ModelRecord> retried, ModelOfRequest(db, key));
    if (retried.has_value()) {  // a retry: what the first request made
      created = *std::move(retried);
      return absl::OkStatus();
    }
    STAMINA_ASSIGN_OR_RETURN(
        Statement base,
        db.Prepare("SELECT digest FROM base_models WHERE id = ?1"));
    STAMINA_RETURN_IF_ERROR(base.BindText(1, model.base_model_id));
    STAMINA_ASSIGN_OR_RETURN(bool base_found, base.Step());
    if (!base_found) {
      return absl::InvalidArgumentError(absl::StrCat(
          "base_model: baseModels/", model.base_model_id, " does not exist"));
    }
    STAMINA_RETURN_IF_ERROR(CheckModelQuota(db, model.tenant_id, options_.max_models_per_tenant));
    const int64_t now_us = ToMicros(options_.clock->Now());
    STAMINA_RETURN_IF_ERROR(InsertModelRow(db, {.tenant_id = model.tenant_id,
                                                .id = model.id,
                                                .display_name = model.display_name,
                                                .base_model_id = model.base_model_id,
                                                .base_digest = base.ColumnText(0),
                                                .webhook_url = model.webhook_url,
                                                .now_us = now_us})
                                .status());
    STAMINA_ASSIGN_OR_RETURN(ModelRow row,
                             FindModel(db, model.tenant_id, model.id));
    created = row.record;
    return RememberRequest(db, key, model.id, now_us);
  }));
  return created;
}

absl::StatusOr<ModelRecord> SqliteModelStore::GetModel(
    const std::string& tenant_id, const std::string& model_id) {
  ModelRecord model;
  STAMINA_RETURN_IF_ERROR(options_.db->Read([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(ModelRow row, FindModel(db, tenant_id, model_id));
    model = row.record;
    return absl::OkStatus();
  }));
  return model;
}

absl::StatusOr<ModelPage> SqliteModelStore::ListModels(
    const std::string& tenant_id, int page_size,
    const std::string& page_token) {
  STAMINA_ASSIGN_OR_RETURN(PageRequest request,
                           ParsePageRequest(page_size, page_token, "ListModels"));
  const int size = request.size;
  const int64_t before_pk = request.before_key;
  ModelPage page;
  STAMINA_RETURN_IF_ERROR(options_.db->Read([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(
        Statement query,
        db.Prepare("SELECT pk, id FROM models WHERE tenant_id = ?1 AND pk < ?2"
                   " ORDER BY pk DESC LIMIT ?3"));
    STAMINA_RETURN_IF_ERROR(query.BindText(1, tenant_id));
    STAMINA_RETURN_IF_ERROR(query.BindInt64(2, before_pk));
    STAMINA_RETURN_IF_ERROR(query.BindInt64(3, size + 1));
    std::vector<std::pair<int64_t, std::string>> ids;
    while (true) {
      STAMINA_ASSIGN_OR_RETURN(bool row, query.Step());
      if (!row) break;
      ids.emplace_back(query.ColumnInt64(0), query.ColumnText(1));
    }
    if (static_cast<int>(ids.size()) > size) {
      ids.pop_back();
      page.next_page_token = absl::StrCat(ids.back().first);
    }
    for (const auto& [pk, id] : ids) {
      STAMINA_ASSIGN_OR_RETURN(ModelRow row, FindModel(db, tenant_id, id));
      page.models.push_back(std::move(row.record));
    }
    return absl::OkStatus();
  }));
  return page;
}

absl::StatusOr<ConceptRecord> SqliteModelStore::CreateConcept(
    const NewConcept& spec) {
  STAMINA_RETURN_IF_ERROR(ValidateResourceId(spec.id, "concept_id"));
  STAMINA_RETURN_IF_ERROR(ValidateConceptToken(spec.token, "concept.token"));
  for (const std::string& caption : spec.caption_templates) {
    if (absl::StrContains(caption, '\n')) {
      return absl::InvalidArgumentError(
          "concept.caption_templates: no newlines allowed");
    }
  }
  ConceptRecord created;
  const RequestKey key{.tenant_id = spec.tenant_id,
                       .method = "CreateConcept",
                       .request_id = spec.request_id,
                       .request_sha256 = spec.request_sha256};
  STAMINA_RETURN_IF_ERROR(options_.db->Write([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(ModelRow model,
                             FindModel(db, spec.tenant_id, spec.model_id));
    STAMINA_ASSIGN_OR_RETURN(std::optional<std::string> made, FindRequest(db, key));
    if (made.has_value()) {  // a retry: what the first request made
      const std::string name = ConceptName(spec.model_id, spec.id);
      auto row = FindConcept(db, model, spec.id);
      if (*made != name || absl::IsNotFound(row.status())) {
        return absl::FailedPreconditionError(
            absl::StrCat("request_id: the concept it created, ", *made, ", was deleted"));
      }
      STAMINA_RETURN_IF_ERROR(row.status());
      created = row->record;
      return absl::OkStatus();
    }
    if (options_.max_concepts_per_model > 0) {
      STAMINA_ASSIGN_OR_RETURN(Statement count,
                               db.Prepare("SELECT COUNT(*) FROM concepts WHERE model_pk = ?1"));
      STAMINA_RETURN_IF_ERROR(count.BindInt64(1, model.pk));
      STAMINA_RETURN_IF_ERROR(count.Step().status());
      if (count.ColumnInt64(0) >= options_.max_concepts_per_model) {
        return absl::ResourceExhaustedError(absl::StrCat(
            ModelName(spec.model_id), " has ", count.ColumnInt64(0),
            " concepts, the most a model may have (Limits.max_concepts_per_model)"));
      }
    }
    STAMINA_ASSIGN_OR_RETURN(
        Statement insert,
        db.Prepare("INSERT INTO concepts (model_pk, id, token, display_name,"
                   " caption_templates, state, create_time_us)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    STAMINA_RETURN_IF_ERROR(insert.BindInt64(1, model.pk));
    STAMINA_RETURN_IF_ERROR(insert.BindText(2, spec.id));
    STAMINA_RETURN_IF_ERROR(insert.BindText(3, spec.token));
    STAMINA_RETURN_IF_ERROR(insert.BindText(4, spec.display_name));
    STAMINA_RETURN_IF_ERROR(
        insert.BindText(5, absl::StrJoin(spec.caption_templates, "\n")));
    STAMINA_RETURN_IF_ERROR(
        insert.BindInt64(6, static_cast<int64_t>(ConceptState::kDraft)));
    STAMINA_RETURN_IF_ERROR(insert.BindInt64(7, ToMicros(options_.clock->Now())));
    absl::Status inserted = insert.Run();
    if (absl::IsAlreadyExists(inserted)) {
      return absl::AlreadyExistsError(absl::StrCat(
          ConceptName(spec.model_id, spec.id), " or token ", spec.token,
          " already exists on the model"));
    }
    STAMINA_RETURN_IF_ERROR(inserted);
    STAMINA_ASSIGN_OR_RETURN(ConceptRow row, FindConcept(db, model, spec.id));
    created = row.record;
    return RememberRequest(db, key, ConceptName(spec.model_id, spec.id),
                           ToMicros(options_.clock->Now()));
  }));
  return created;
}

absl::StatusOr<ConceptRecord> SqliteModelStore::GetConcept(
    const std::string& tenant_id, const std::string& model_id,
    const std::string& concept_id) {
  ConceptRecord found;
  STAMINA_RETURN_IF_ERROR(options_.db->Read([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(ModelRow model, FindModel(db, tenant_id, model_id));
    STAMINA_ASSIGN_OR_RETURN(ConceptRow row, FindConcept(db, model, concept_id));
    found = row.record;
    return absl::OkStatus();
  }));
  return found;
}

absl::StatusOr<std::vector<ConceptRecord>> SqliteModelStore::ListConcepts(
    const std::string& tenant_id, const std::string& model_id) {
  std::vector<ConceptRecord> concepts;
  STAMINA_RETURN_IF_ERROR(options_.db->Read([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(ModelRow model, FindModel(db, tenant_id, model_id));
    STAMINA_ASSIGN_OR_RETURN(
        Statement query,
        db.Prepare("SELECT id FROM concepts WHERE model_pk = ?1 ORDER BY pk"));
    STAMINA_RETURN_IF_ERROR(query.BindInt64(1, model.pk));
    while (true) {
      STAMINA_ASSIGN_OR_RETURN(bool row, query.Step());
      if (!row) return absl::OkStatus();
      STAMINA_ASSIGN_OR_RETURN(ConceptRow c,
                               FindConcept(db, model, query.ColumnText(0)));
      concepts.push_back(std::move(c.record));
    }
  }));
  return concepts;
}

namespace {

// Attaches one image to concept `concept_pk` in the caller's transaction.
absl::StatusOr<AddedImage> LinkImage(Database& db, int64_t concept_pk,
                                     const ImageRecord& image, int64_t now_us) {
  STAMINA_RETURN_IF_ERROR(InsertBlobRow(db, image.digest, image.size_bytes,
                                        BlobKind::kImage, now_us));
  STAMINA_ASSIGN_OR_RETURN(
      Statement meta,
      db.Prepare("INSERT INTO images (digest, format, width, height)"
                 " VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING"));
  STAMINA_RETURN_IF_ERROR(meta.BindText(1, image.digest));
  STAMINA_RETURN_IF_ERROR(meta.BindInt64(2, static_cast<int64_t>(image.format)));
  STAMINA_RETURN_IF_ERROR(meta.BindInt64(3, image.width));
  STAMINA_RETURN_IF_ERROR(meta.BindInt64(4, image.height));
  STAMINA_RETURN_IF_ERROR(meta.Run());
  STAMINA_ASSIGN_OR_RETURN(
      Statement link,
      db.Prepare("INSERT INTO concept_images (concept_pk, digest, filename,"
                 " caption, create_time_us, original_filename)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING"));
  STAMINA_RETURN_IF_ERROR(link.BindInt64(1, concept_pk));
  STAMINA_RETURN_IF_ERROR(link.BindText(2, image.digest));
  STAMINA_RETURN_IF_ERROR(link.BindText(3, image.filename));
  STAMINA_RETURN_IF_ERROR(link.BindText(4, image.caption));
  STAMINA_RETURN_IF_ERROR(link.BindInt64(5, now_us));
  STAMINA_RETURN_IF_ERROR(link.BindText(6, image.original_filename));
  STAMINA_RETURN_IF_ERROR(link.Run());
  AddedImage added;
  added.created = db.changes() == 1;
  STAMINA_ASSIGN_OR_RETURN(
      Statement stored,
      db.Prepare(absl::StrCat(kImageSelect, "WHERE ci.concept_pk = ?1 AND ci.digest = ?2")));
  STAMINA_RETURN_IF_ERROR(stored.BindInt64(1, concept_pk));
  STAMINA_RETURN_IF_ERROR(stored.BindText(2, image.digest));
  STAMINA_RETURN_IF_ERROR(stored.Step().status());
  added.image = ReadImage(stored);
  return added;
}

}  // namespace

absl::StatusOr<std::vector<AddedImage>> SqliteModelStore::AddImages(
    const std::string& tenant_id, const std::string& model_id,
    const std::string& concept_id, const std::vector<ImageRecord>& images) {
  for (size_t i = 0; i < images.size(); ++i) {
    if (!IsSha256Hex(images[i].digest)) {
      return absl::InvalidArgumentError(
          absl::StrCat("images[", i, "].digest: not a SHA-256"));
    }
  }
  std::vector<AddedImage> added;
  STAMINA_RETURN_IF_ERROR(options_.db->Write([&](Database& db) -> absl::Status {
    added.clear();
    STAMINA_ASSIGN_OR_RETURN(ModelRow model, FindModel(db, tenant_id, model_id));
    STAMINA_ASSIGN_OR_RETURN(ConceptRow c, FindConcept(db, model, concept_id));
    if (c.record.state != ConceptState::kDraft) {
      return absl::FailedPreconditionError(absl::StrCat(
          ConceptName(model_id, concept_id),
          " is no longer DRAFT; its images are frozen"));
    }
    const int64_t now_us = ToMicros(options_.clock->Now());
    const int64_t quota = options_.max_stored_bytes_per_tenant;
    int64_t stored_before = 0;
    if (quota > 0) {
      STAMINA_ASSIGN_OR_RETURN(stored_before, TenantStoredBytes(db, tenant_id));
    }
    for (const ImageRecord& image : images) {
      STAMINA_ASSIGN_OR_RETURN(AddedImage one, LinkImage(db, c.pk, image, now_us));
      added.push_back(std::move(one));
    }
    if (quota > 0) {
      STAMINA_ASSIGN_OR_RETURN(const int64_t stored, TenantStoredBytes(db, tenant_id));
      // Bytes the tenant already holds (a re-upload, another concept's
      // copy) never count twice; a tenant over its quota through training
      // results may still add images it already has.
      if (stored > quota && stored > stored_before) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "the tenant would store ", stored, " bytes; its quota is ", quota,
            " (Limits.max_stored_bytes_per_tenant): delete images, concepts or models first"));
      }
    }
    if (options_.max_images_per_concept > 0) {
      STAMINA_ASSIGN_OR_RETURN(
          Statement count,
          db.Prepare("SELECT count(*) FROM concept_images WHERE concept_pk = ?1"));
      STAMINA_RETURN_IF_ERROR(count.BindInt64(1, c.pk));
      STAMINA_RETURN_IF_ERROR(count.Step().status());
      if (count.ColumnInt64(0) > options_.max_images_per_concept) {
        // Returning an error rolls the whole transaction back.
        return absl::ResourceExhaustedError(absl::StrCat(
            "the concept would have ", count.ColumnInt64(0), " images; the limit is ",
            options_.max_images_per_concept, " (Limits.max_images_per_concept)"));
      }
    }
    return absl::OkStatus();
  }));
  return added;
}

absl::StatusOr<std::vector<ImageRecord>> SqliteModelStore::ListImages(
    const std::string& tenant_id, const std::string& model_id,
    const std::string& concept_id) {
  std::vector<ImageRecord> images;
  STAMINA_RETURN_IF_ERROR(options_.db->Read([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(ModelRow model, FindModel(db, tenant_id, model_id));
    STAMINA_ASSIGN_OR_RETURN(ConceptRow c, FindConcept(db, model, concept_id));
    STAMINA_ASSIGN_OR_RETURN(
        Statement query,
        db.Prepare(absl::StrCat(kImageSelect,
                                "WHERE ci.concept_pk = ?1 ORDER BY"
                                " ci.create_time_us, ci.digest")));
    STAMINA_RETURN_IF_ERROR(query.BindInt64(1, c.pk));
    while (true) {
      STAMINA_ASSIGN_OR_RETURN(bool row, query.Step());
      if (!row) return absl::OkStatus();
      images.push_back(ReadImage(query));
    }
  }));
  return images;
}

absl::StatusOr<int64_t> SqliteModelStore::ForgetRequestIds(absl::Time before) {
  int64_t forgotten = 0;
  STAMINA_RETURN_IF_ERROR(options_.db->Write([&](Database& db) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(Statement forget,
                             db.Prepare("DELETE FROM request_ids WHERE create_time_us < ?1"));
    STAMINA_RETURN_IF_ERROR(forget.BindInt64(1, ToMicros(before)));
    STAMINA_RETURN_IF_ERROR(forget.Run());
    forgotten = db.changes();
    return absl::OkStatus();
  }));
  return forgotten;
}

}  // namespace stamina::storage
