#include "common/ids.h"

#include "absl/strings/str_cat.h"

namespace stamina {
namespace {

constexpr absl::string_view kLetters = "abcdefghijklmnopqrstuvwxyz";
constexpr absl::string_view kBase32 = "abcdefghijklmnopqrstuvwxyz234567";

template <typename Gen>
std::string MakeRandomId(Gen& gen) {
  std::string id;
  id.reserve(RandomIdGenerator::kRandomIdLength);
  id.push_back(kLetters[absl::Uniform<size_t>(gen, 0, kLetters.size())]);
  while (id.size() < RandomIdGenerator::kRandomIdLength) {
    id.push_back(kBase32[absl::Uniform<size_t>(gen, 0, kBase32.size())]);
  }
  return id;
}

}  // namespace

RandomIdGenerator::RandomIdGenerator(Options options) {
  if (options.seed != 0) {
    seeded_ = std::make_unique<absl::InsecureBitGen>(
        std::seed_seq{static_cast<uint32_t>(options.seed),
                      static_cast<uint32_t>(options.seed >> 32)});
  }
}

std::string RandomIdGenerator::NewId() {
  absl::MutexLock lock(&mu_);
  if (seeded_ != nullptr) return MakeRandomId(*seeded_);
  return MakeRandomId(os_seeded_);
}

SequentialIdGenerator::SequentialIdGenerator(std::string prefix)
    : prefix_(std::move(prefix)) {}

std::string SequentialIdGenerator::NewId() {
  absl::MutexLock lock(&mu_);
  return absl::StrCat(prefix_, next_++);
}

absl::Status ValidateResourceId(absl::string_view id, absl::string_view field) {
  if (id.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must not be empty"));
  }
  if (id.size() > kMaxResourceIdLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": \"", id.substr(0, 16), "...\" is ", id.size(),
                     " characters; the limit is ", kMaxResourceIdLength));
  }
  if (id.front() < 'a' || id.front() > 'z') {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": \"", id, "\" must start with a lowercase letter"));
  }
  if (id.back() == '-') {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": \"", id, "\" must not end with a hyphen"));
  }
  for (char c : id) {
    const bool allowed =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!allowed) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": \"", id,
                       "\" may contain only lowercase letters, digits and "
                       "hyphens (AIP-122)"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateConceptToken(absl::string_view token,
                                  absl::string_view field) {
  const bool framed = token.size() >= 3 && token.front() == '<' &&
                      token.back() == '>' && token.size() <= 34;
  bool allowed = framed;
  for (size_t i = 1; allowed && i + 1 < token.size(); ++i) {
    const char c = token[i];
    allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-';
  }
  if (allowed) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      field, ": \"", token.substr(0, 40),
      "\" must be <, then 1-32 characters of a-z, 0-9, _ or -, then >"));
}

}  // namespace stamina
