// File: core/pipelines/config_fields.h
//
// ConfigFields: the strict reader of one JSON config file behind
// diffusers_config.cc. Fields are consumed one by one (read into a config,
// accepted only at implemented values, or ignored as metadata); the first
// problem wins, and Finish() refuses any field nobody consumed unless it is
// null, so no field is ever silently ignored. Messages name the file (its
// label) and the field.
// Not thread-safe; one reader per parse.
#ifndef STAMINA_CORE_PIPELINES_CONFIG_FIELDS_H_
#define STAMINA_CORE_PIPELINES_CONFIG_FIELDS_H_

#include <cstdint>
#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace stamina::core {

// One config file's fields, consumed one by one; the first problem wins.
class ConfigFields {
 public:
  using Json = nlohmann::json;

  static absl::StatusOr<ConfigFields> Parse(absl::string_view text,
                                            absl::string_view label) {
    Json json = Json::parse(text.begin(), text.end(), nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat(label, ": not a JSON object"));
    }
    return ConfigFields(std::move(json), label);
  }

  // Present and non-null fields are read; null keeps the default.
  void Int(const char* key, int64_t* out) {
    if (const Json* v = Take(key)) {
      if (v->is_number_integer()) {
        *out = v->get<int64_t>();
      } else {
        Fail(key, "must be an integer");
      }
    }
  }
  void Double(const char* key, double* out) {
    if (const Json* v = Take(key)) {
      if (v->is_number()) {
        *out = v->get<double>();
      } else {
        Fail(key, "must be a number");
      }
    }
  }
  void Bool(const char* key, bool* out) {
    if (const Json* v = Take(key)) {
      if (v->is_boolean()) {
        *out = v->get<bool>();
      } else {
        Fail(key, "must be true or false");
      }
    }
  }
  void String(const char* key, std::string* out) {
    if (const Json* v = Take(key)) {
      if (v->is_string()) {
        *out = v->get<std::string>();
      } else {
        Fail(key, "must be a string");
      }
    }
  }
  void Strings(const char* key, std::vector<std::string>* out) {
    if (const Json* v = Take(key)) {
      if (!v->is_array()) return Fail(key, "must be a list of strings");
      std::vector<std::string> values;
      for (const Json& item : *v) {
        if (!item.is_string()) return Fail(key, "must be a list of strings");
        values.push_back(item.get<std::string>());
      }
      *out = std::move(values);
    }
  }
  // A list of integers; with `scalar_ok` a single integer stands for {it}.
  void Ints(const char* key, std::vector<int64_t>* out, bool scalar_ok = false) {
    if (const Json* v = Take(key)) {
      if (scalar_ok && v->is_number_integer()) {
        *out = {v->get<int64_t>()};
        return;
      }
      if (!v->is_array()) return Fail(key, "must be a list of integers");
      std::vector<int64_t> values;
      for (const Json& item : *v) {
        if (!item.is_number_integer()) return Fail(key, "must be a list of integers");
        values.push_back(item.get<int64_t>());
      }
      *out = std::move(values);
    }
  }
  // The field, when present, must be one of `allowed` (null included only if
  // listed); a list value must hold allowed values only (diffusers' per-block
  // forms, e.g. only_cross_attention: [false, false, ...]).
  void Only(const char* key, std::initializer_list<Json> allowed) {
    seen_.insert(key);
    if (!json_.contains(key)) return;
    const Json& value = json_[key];
    auto ok = [&](const Json& item) {
      for (const Json& a : allowed) {
        if (item == a) return true;
      }
      return false;
    };
    bool good = ok(value);
    if (!good && value.is_array() && !value.empty()) {
      good = true;
      for (const Json& item : value) good = good && !item.is_array() && ok(item);
    }
    if (!good) {
      std::vector<std::string> names;
      for (const Json& a : allowed) names.push_back(a.dump());
      Fail(key, absl::StrCat(value.dump(), " is not implemented (only ",
                             absl::StrJoin(names, " or "), ")"));
    }
  }
  // The raw value (null when absent), marked as consumed.
  Json Raw(const char* key) {
    seen_.insert(key);
    return json_.contains(key) ? json_.at(key) : Json();
  }
  // Metadata or training-only fields: read by nobody.
  void Ignore(std::initializer_list<const char*> keys) {
    for (const char* key : keys) seen_.insert(key);
  }
  // Every field not consumed above: kept as JSON text.
  std::map<std::string, std::string> Rest() {
    std::map<std::string, std::string> rest;
    for (const auto& [key, value] : json_.items()) {
      if (seen_.count(key) == 0) rest[key] = value.dump();
      seen_.insert(key);
    }
    return rest;
  }
  // The first problem, or a field nobody consumed whose value is not null.
  absl::Status Finish() {
    if (!status_.ok()) return status_;
    for (const auto& [key, value] : json_.items()) {
      if (seen_.count(key) == 0 && !value.is_null()) {
        return absl::InvalidArgumentError(absl::StrCat(
            label_, ": ", key, ": ", value.dump(),
            " is not implemented (an unknown field, refused rather than ignored)"));
      }
    }
    return absl::OkStatus();
  }
  void Fail(absl::string_view key, absl::string_view why) {
    if (status_.ok()) {
      status_ = absl::InvalidArgumentError(absl::StrCat(label_, ": ", key, ": ", why));
    }
  }
  absl::Status Check(const absl::Status& validation) {
    if (status_.ok() && !validation.ok()) {
      status_ = absl::InvalidArgumentError(absl::StrCat(label_, ": ", validation.message()));
    }
    return Finish();
  }

 private:
  ConfigFields(Json json, absl::string_view label)
      : json_(std::move(json)), label_(label) {}

  const Json* Take(const char* key) {
    seen_.insert(key);
    if (!json_.contains(key) || json_[key].is_null()) return nullptr;
    return &json_[key];
  }

  Json json_;
  std::string label_;
  std::set<std::string> seen_;
  absl::Status status_;
};

}  // namespace stamina::core

#endif  // STAMINA_CORE_PIPELINES_CONFIG_FIELDS_H_
