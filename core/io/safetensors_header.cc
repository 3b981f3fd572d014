#include "core/io/safetensors_header.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace stamina::core {
namespace {

using ::nlohmann::json;

constexpr absl::string_view kMetadataKey = "__metadata__";

struct DtypeEntry {
  SafetensorsDtype dtype;
  absl::string_view name;
  int64_t size;
  torch::ScalarType scalar_type;
};

constexpr DtypeEntry kDtypes[] = {
    {SafetensorsDtype::kF64, "F64", 8, torch::kFloat64},
    {SafetensorsDtype::kF32, "F32", 4, torch::kFloat32},
    {SafetensorsDtype::kF16, "F16", 2, torch::kFloat16},
    {SafetensorsDtype::kBF16, "BF16", 2, torch::kBFloat16},
    {SafetensorsDtype::kI64, "I64", 8, torch::kInt64},
    {SafetensorsDtype::kI32, "I32", 4, torch::kInt32},
    {SafetensorsDtype::kI16, "I16", 2, torch::kInt16},
    {SafetensorsDtype::kI8, "I8", 1, torch::kInt8},
    {SafetensorsDtype::kU8, "U8", 1, torch::kUInt8},
    {SafetensorsDtype::kBool, "BOOL", 1, torch::kBool},
};

const DtypeEntry& Entry(SafetensorsDtype dtype) {
  for (const DtypeEntry& entry : kDtypes) {
    if (entry.dtype == dtype) return entry;
  }
  return kDtypes[1];  // Unreachable: the table covers the enum.
}

absl::Status Corrupt(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("safetensors header: ", what));
}

// Records the first syntax error and rejects duplicate object keys, which
// nlohmann's DOM parser would silently resolve (last one wins).
class ValidatingSax : public json::json_sax_t {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    keys_.emplace_back();
    return true;
  }
  bool key(string_t& key) override {
    if (!keys_.back().insert(key).second) {
      error_ = absl::StrCat("duplicate key \"", key, "\"");
      return false;
    }
    return true;
  }
  bool end_object() override {
    keys_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    error_ = absl::StrCat("not valid JSON at byte ", position, ": ", ex.what());
    return false;
  }

  const std::string& error() const { return error_; }

 private:
  std::vector<std::set<std::string>> keys_;
  std::string error_;
};

absl::StatusOr<uint64_t> GetUnsigned(const json& value,
                                     absl::string_view what) {
  if (!value.is_number_unsigned()) {
    const std::string shown =
        value.dump(-1, ' ', false, json::error_handler_t::replace);
    return Corrupt(absl::StrCat(
        what, " is not a non-negative integer: ", shown.substr(0, 40)));
  }
  return value.get<uint64_t>();
}

absl::StatusOr<SafetensorsTensorInfo> ParseTensorInfo(const std::string& name,
                                                      const json& entry) {
  const std::string where = absl::StrCat("tensor \"", name, "\"");
  if (!entry.is_object())
    return Corrupt(absl::StrCat(where, " is not an object"));
  SafetensorsTensorInfo info;

  auto dtype_it = entry.find("dtype");
  if (dtype_it == entry.end() || !dtype_it->is_string()) {
    return Corrupt(absl::StrCat(where, ": \"dtype\" missing or not a string"));
  }
  const std::string& dtype_name = dtype_it->get_ref<const std::string&>();
  std::optional<SafetensorsDtype> dtype = ParseSafetensorsDtype(dtype_name);
  if (!dtype.has_value()) {
    return Corrupt(absl::StrCat(where, ": unknown or unsupported dtype \"",
                                dtype_name, "\""));
  }
  info.dtype = *dtype;

  auto shape_it = entry.find("shape");
  if (shape_it == entry.end() || !shape_it->is_array()) {
    return Corrupt(absl::StrCat(where, ": \"shape\" missing or not an array"));
  }
  uint64_t numel = 1;
  for (const json& dim_json : *shape_it) {
    auto dim = GetUnsigned(dim_json, absl::StrCat(where, " shape entry"));
    if (!dim.ok()) return dim.status();
    if (*dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
        __builtin_mul_overflow(numel, *dim, &numel)) {
      return Corrupt(absl::StrCat(where, ": shape overflows"));
    }
    info.shape.push_back(static_cast<int64_t>(*dim));
  }
  uint64_t byte_size = 0;
  if (__builtin_mul_overflow(
          numel, static_cast<uint64_t>(Entry(info.dtype).size), &byte_size)) {
    return Corrupt(absl::StrCat(where, ": shape overflows"));
  }

  auto offsets_it = entry.find("data_offsets");
  if (offsets_it == entry.end() || !offsets_it->is_array() ||
      offsets_it->size() != 2) {
    return Corrupt(
        absl::StrCat(where, ": \"data_offsets\" missing or not [begin, end]"));
  }
  auto begin = GetUnsigned((*offsets_it)[0], absl::StrCat(where, " begin"));
  if (!begin.ok()) return begin.status();
  auto end = GetUnsigned((*offsets_it)[1], absl::StrCat(where, " end"));
  if (!end.ok()) return end.status();
  if (*end < *begin) {
    return Corrupt(absl::StrCat(where, ": data_offsets end ", *end,
                                " before begin ", *begin));
  }
  if (*end - *begin != byte_size) {
    return Corrupt(absl::StrCat(where, ": data_offsets span ", *end - *begin,
                                " bytes but shape x ", dtype_name, " needs ",
                                byte_size));
  }
  info.data_begin = *begin;
  info.data_end = *end;
  return info;
}

// The tensors must tile [0, data_size) exactly, as the reference reader
// requires: sorted by offset, each begins where the previous ended.
absl::Status CheckTiling(const SafetensorsHeader& header) {
  std::vector<std::pair<const std::string*, const SafetensorsTensorInfo*>>
      order;
  for (const auto& [name, info] : header.tensors)
    order.push_back({&name, &info});
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return std::make_pair(a.second->data_begin, a.second->data_end) <
           std::make_pair(b.second->data_begin, b.second->data_end);
  });
  uint64_t cursor = 0;
  for (const auto& [name, info] : order) {
    if (info->data_end > header.data_size) {
      return Corrupt(absl::StrCat("tensor \"", *name, "\": data_offsets end ",
                                  info->data_end, " beyond the ",
                                  header.data_size, "-byte buffer"));
    }
    if (info->data_begin < cursor) {
      return Corrupt(
          absl::StrCat("tensor \"", *name, "\" at byte ", info->data_begin,
                       " overlaps the previous tensor ending at ", cursor));
    }
    if (info->data_begin > cursor) {
      return Corrupt(absl::StrCat("gap in the buffer: bytes ", cursor, "..",
                                  info->data_begin, " precede tensor \"", *name,
                                  "\" and belong to no tensor"));
    }
    cursor = info->data_end;
  }
  if (cursor != header.data_size) {
    return Corrupt(absl::StrCat("tensors cover ", cursor, " bytes of the ",
                                header.data_size, "-byte buffer"));
  }
  return absl::OkStatus();
}

bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t extra = 0;
    uint32_t min = 0;
    uint32_t code = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1, min = 0x80, code = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, min = 0x800, code = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, min = 0x10000, code = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    for (size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      code = (code << 6) | (cc & 0x3F);
    }
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

}  // namespace

absl::string_view SafetensorsDtypeName(SafetensorsDtype dtype) {
  return Entry(dtype).name;
}

std::optional<SafetensorsDtype> ParseSafetensorsDtype(absl::string_view name) {
  for (const DtypeEntry& entry : kDtypes) {
    if (entry.name == name) return entry.dtype;
  }
  return std::nullopt;
}

int64_t SafetensorsDtypeSize(SafetensorsDtype dtype) {
  return Entry(dtype).size;
}

torch::ScalarType ToScalarType(SafetensorsDtype dtype) {
  return Entry(dtype).scalar_type;
}

absl::StatusOr<SafetensorsDtype> FromScalarType(torch::ScalarType type) {
  for (const DtypeEntry& entry : kDtypes) {
    if (entry.scalar_type == type) return entry.dtype;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("safetensors cannot hold dtype ", c10::toString(type)));
}

absl::StatusOr<uint64_t> DecodeSafetensorsHeaderLength(absl::string_view prefix,
                                                       uint64_t total_size) {
  if (prefix.size() < 8 || total_size < 8) {
    return Corrupt(absl::StrCat("truncated: ", total_size,
                                " bytes, shorter than the 8-byte length"));
  }
  uint64_t length = 0;
  for (int i = 7; i >= 0; --i) {
    length = (length << 8) | static_cast<unsigned char>(prefix[i]);
  }
  if (length > total_size - 8) {
    return Corrupt(absl::StrCat("header length ", length, " exceeds the ",
                                total_size - 8, " bytes after the prefix"));
  }
  if (length > kMaxSafetensorsHeaderSize) {
    return Corrupt(absl::StrCat("header length ", length, " exceeds the ",
                                kMaxSafetensorsHeaderSize, "-byte limit"));
  }
  return length;
}

absl::StatusOr<SafetensorsHeader> ParseSafetensorsHeader(absl::string_view text,
                                                         uint64_t data_size) {
  if (text.empty() || text.front() != '{') {
    return Corrupt("does not start with '{'");
  }
  ValidatingSax sax;
  if (!json::sax_parse(text.begin(), text.end(), &sax)) {
    return Corrupt(sax.error());
  }
  const json root = json::parse(text.begin(), text.end(), nullptr,
                                /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) {
    return Corrupt("not a JSON object");
  }

  SafetensorsHeader header;
  header.data_offset = 8 + text.size();
  header.data_size = data_size;
  for (const auto& [key, value] : root.items()) {
    if (key == kMetadataKey) {
      if (value.is_null()) continue;
      if (!value.is_object()) return Corrupt("__metadata__ is not an object");
      for (const auto& [meta_key, meta_value] : value.items()) {
        if (!meta_value.is_string()) {
          return Corrupt(absl::StrCat("__metadata__ value \"", meta_key,
                                      "\" is not a string"));
        }
        header.metadata[meta_key] = meta_value.get<std::string>();
      }
      continue;
    }
    absl::StatusOr<SafetensorsTensorInfo> info = ParseTensorInfo(key, value);
    if (!info.ok()) return info.status();
    header.tensors.emplace(key, *std::move(info));
  }
  absl::Status tiling = CheckTiling(header);
  if (!tiling.ok()) return tiling;
  return header;
}

absl::StatusOr<std::string> SerializeSafetensorsHeader(
    const std::vector<std::pair<std::string, SafetensorsTensorInfo>>& tensors,
    const std::map<std::string, std::string>& metadata) {
  json root = json::object();
  if (!metadata.empty()) {
    json meta = json::object();
    for (const auto& [key, value] : metadata) {
      if (!IsValidUtf8(key) || !IsValidUtf8(value)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "safetensors metadata entry \"", key, "\" is not valid UTF-8"));
      }
      meta[key] = value;
    }
    root[std::string(kMetadataKey)] = std::move(meta);
  }
  for (const auto& [name, info] : tensors) {
    if (name == kMetadataKey || !IsValidUtf8(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid safetensors tensor name \"", name,
                       "\" (reserved or not valid UTF-8)"));
    }
    if (root.contains(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("duplicate safetensors tensor name \"", name, "\""));
    }
    json entry = json::object();
    entry["dtype"] = std::string(SafetensorsDtypeName(info.dtype));
    entry["shape"] = info.shape;
    entry["data_offsets"] = {info.data_begin, info.data_end};
    root[name] = std::move(entry);
  }
  // Valid UTF-8 was checked above, so the strict handler cannot throw; the
  // replace handler makes that certain.
  std::string text = root.dump(-1, ' ', false, json::error_handler_t::replace);
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  uint64_t length = text.size();
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<char>(length & 0xFF);
    length >>= 8;
  }
  out += text;
  return out;
}

}  // namespace stamina::core
