#include "core/io/safetensors_header.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::Status ParseStatus(const std::string& json, uint64_t data_size) {
  return ParseSafetensorsHeader(json, data_size).status();
}

TEST(SafetensorsDtypeTest, TableRoundTrips) {
  for (SafetensorsDtype dtype :
       {SafetensorsDtype::kF64, SafetensorsDtype::kF32, SafetensorsDtype::kF16,
        SafetensorsDtype::kBF16, SafetensorsDtype::kI64, SafetensorsDtype::kI32,
        SafetensorsDtype::kI16, SafetensorsDtype::kI8, SafetensorsDtype::kU8,
        SafetensorsDtype::kBool}) {
    EXPECT_EQ(ParseSafetensorsDtype(SafetensorsDtypeName(dtype)), dtype);
    STAMINA_ASSERT_OK_AND_ASSIGN(SafetensorsDtype back,
                                 FromScalarType(ToScalarType(dtype)));
    EXPECT_EQ(back, dtype);
    EXPECT_EQ(SafetensorsDtypeSize(dtype),
              static_cast<int64_t>(c10::elementSize(ToScalarType(dtype))));
  }
  EXPECT_EQ(ParseSafetensorsDtype("f32"), std::nullopt);
  EXPECT_EQ(ParseSafetensorsDtype("F8_E4M3"), std::nullopt);
  EXPECT_THAT(FromScalarType(torch::kComplexFloat),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("dtype")));
}

TEST(SafetensorsHeaderTest, ParsesValidHeader) {
  STAMINA_ASSERT_OK_AND_ASSIGN(SafetensorsHeader header,
                               ParseSafetensorsHeader(
                                   R"({"__metadata__": {"format": "pt"},
              "b": {"dtype": "F16", "shape": [3], "data_offsets": [8, 14]},
              "a": {"dtype": "F32", "shape": [2, 1], "data_offsets": [0, 8]},
              "s": {"dtype": "I64", "shape": [], "data_offsets": [14, 22]},
              "z": {"dtype": "U8", "shape": [0, 5], "data_offsets": [22, 22]}}  )",
                                   22));
  EXPECT_EQ(header.metadata.at("format"), "pt");
  ASSERT_EQ(header.tensors.size(), 4u);
  const SafetensorsTensorInfo& a = header.tensors.at("a");
  EXPECT_EQ(a.dtype, SafetensorsDtype::kF32);
  EXPECT_THAT(a.shape, ElementsAre(2, 1));
  EXPECT_EQ(a.data_begin, 0u);
  EXPECT_EQ(a.data_end, 8u);
  EXPECT_TRUE(header.tensors.at("s").shape.empty());
  EXPECT_EQ(header.data_size, 22u);
}

TEST(SafetensorsHeaderTest, NullMetadataAndEmptyFileAreValid) {
  STAMINA_EXPECT_OK(ParseStatus(R"({"__metadata__": null})", 0));
  STAMINA_EXPECT_OK(ParseStatus("{}", 0));
}

struct BadHeader {
  const char* json;
  uint64_t data_size;
  const char* message;
};

TEST(SafetensorsHeaderTest, MalformedHeadersAreDataLoss) {
  const BadHeader cases[] = {
      {"", 0, "does not start with '{'"},
      {"[1, 2]", 0, "does not start with '{'"},
      {"{\"a\": ", 0, "not valid JSON"},
      {"{} x", 0, "not valid JSON"},
      {"{\"a\": \"\xff\"}", 0, "not valid JSON"},
      {R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
           "a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
       8, "duplicate key \"a\""},
      {R"({"a": {"dtype": "F32", "dtype": "F32", "shape": [1],
                 "data_offsets": [0, 4]}})",
       4, "duplicate key \"dtype\""},
      {R"({"a": 7})", 0, "tensor \"a\" is not an object"},
      {R"({"a": {"shape": [1], "data_offsets": [0, 4]}})", 4, "\"dtype\""},
      {R"({"a": {"dtype": 3, "shape": [1], "data_offsets": [0, 4]}})", 4,
       "\"dtype\""},
      {R"({"a": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}})", 8,
       "unknown or unsupported dtype \"C64\""},
      {R"({"a": {"dtype": "F32", "shape": 1, "data_offsets": [0, 4]}})", 4,
       "\"shape\""},
      {R"({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", 4,
       "shape entry is not a non-negative integer: -1"},
      {R"({"a": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}})", 4,
       "not a non-negative integer"},
      {R"({"a": {"dtype": "F32", "shape": [4294967296, 4294967296],
                 "data_offsets": [0, 4]}})",
       4, "shape overflows"},
      {R"({"a": {"dtype": "F32", "shape": [1]}})", 4, "\"data_offsets\""},
      {R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0]}})", 4,
       "\"data_offsets\""},
      {R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, "4"]}})", 4,
       "end is not a non-negative integer"},
      {R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}})", 4,
       "end 0 before begin 4"},
      {R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}})", 4,
       "span 4 bytes but shape x F32 needs 8"},
      {R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", 4,
       "beyond the 4-byte buffer"},
      {R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
           "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
       8, "overlaps"},
      {R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", 8,
       "gap in the buffer: bytes 0..4"},
      {R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})", 8,
       "tensors cover 4 bytes of the 8-byte buffer"},
      {R"({"__metadata__": [1]})", 0, "__metadata__ is not an object"},
      {R"({"__metadata__": {"k": 1}})", 0, "__metadata__ value \"k\""},
  };
  for (const BadHeader& bad : cases) {
    SCOPED_TRACE(bad.json);
    EXPECT_THAT(ParseStatus(bad.json, bad.data_size),
                StatusIs(absl::StatusCode::kDataLoss, HasSubstr(bad.message)));
  }
}

TEST(SafetensorsHeaderTest, DecodesLengthPrefix) {
  std::string prefix("\x10\x00\x00\x00\x00\x00\x00\x00", 8);
  EXPECT_THAT(DecodeSafetensorsHeaderLength(prefix, 24), IsOkAndHolds(16u));
  EXPECT_THAT(DecodeSafetensorsHeaderLength(prefix, 23),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("header length 16 exceeds the 15 bytes")));
  EXPECT_THAT(DecodeSafetensorsHeaderLength("abc", 3),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("truncated")));
  std::string huge("\xff\xff\xff\xff\xff\xff\xff\xff", 8);
  EXPECT_THAT(DecodeSafetensorsHeaderLength(huge, 100),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("exceeds")));
}

TEST(SafetensorsHeaderTest, SerializesPaddedHeaderThatParsesBack) {
  SafetensorsTensorInfo info;
  info.dtype = SafetensorsDtype::kBF16;
  info.shape = {3};
  info.data_begin = 0;
  info.data_end = 6;
  STAMINA_ASSERT_OK_AND_ASSIGN(
      std::string bytes,
      SerializeSafetensorsHeader({{"w", info}}, {{"format", "pt"}}));
  ASSERT_GE(bytes.size(), 8u);
  EXPECT_EQ(bytes.size() % 8, 0u);
  STAMINA_ASSERT_OK_AND_ASSIGN(
      uint64_t length, DecodeSafetensorsHeaderLength(bytes, bytes.size() + 6));
  EXPECT_EQ(length, bytes.size() - 8);
  EXPECT_EQ(bytes[8], '{');
  STAMINA_ASSERT_OK_AND_ASSIGN(SafetensorsHeader header,
                               ParseSafetensorsHeader(bytes.substr(8), 6));
  EXPECT_EQ(header.metadata.at("format"), "pt");
  EXPECT_EQ(header.tensors.at("w").dtype, SafetensorsDtype::kBF16);
  EXPECT_EQ(header.data_offset, bytes.size());
}

TEST(SafetensorsHeaderTest, SerializeRejectsReservedAndNonUtf8Names) {
  SafetensorsTensorInfo info;
  EXPECT_THAT(
      SerializeSafetensorsHeader({{"__metadata__", info}}, {}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reserved")));
  EXPECT_THAT(SerializeSafetensorsHeader({{"bad\xc3", info}}, {}),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(SerializeSafetensorsHeader({}, {{"k", "\xed\xa0\x80"}}),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  STAMINA_EXPECT_OK(
      SerializeSafetensorsHeader({}, {{"k", "caf\xc3\xa9 \xf0\x9f\x98\x80"}}));
}

}  // namespace
}  // namespace stamina::core
