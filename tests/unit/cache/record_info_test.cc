// The build-cache record's info: one encoding, read back field for field;
// records of an older format or damaged ones are not read (a miss).
#include <gtest/gtest.h>

#include "mason/cache/record_info.h"

namespace mason::cache {
namespace {

using nlohmann::json;

RecordInfo sample() {
  RecordInfo info{"WORKDIR /app", false, "2026-01-02T03:04:05Z"};
  info.inputs = {{"step", "builder 3/7"},
                 {"parent", "sha256:aa"},
                 {"from", {{"builder", "sha256:bb"}, {"odd", 3}}}};
  return info;
}

TEST(RecordInfo, EncodeDecodeRoundTrip) {
  auto info = sample();
  info.imported = true;
  auto back = RecordInfo::decode(info.encode());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->created_by, "WORKDIR /app");
  EXPECT_FALSE(back->adds_layer);
  EXPECT_EQ(back->created, "2026-01-02T03:04:05Z");
  EXPECT_TRUE(back->imported);
  EXPECT_EQ(back->inputs, info.inputs);
}

TEST(RecordInfo, TheDocumentedSpelling) {
  auto j = json::parse(sample().encode());
  EXPECT_EQ(j["created_by"], "WORKDIR /app");
  EXPECT_EQ(j["adds_layer"], false);
  EXPECT_FALSE(j.contains("layer"));
  EXPECT_FALSE(j.contains("empty_layer"));
  EXPECT_FALSE(j.contains("imported")); // only when true
}

TEST(RecordInfo, OlderOrDamagedRecordsAreNotRead) {
  // The first format spelled the flag "layer".
  EXPECT_FALSE(RecordInfo::decode(R"({"created_by":"RUN x","layer":true,"inputs":{}})"));
  EXPECT_FALSE(RecordInfo::decode("not json"));
  EXPECT_FALSE(RecordInfo::decode(R"({"created_by":1,"adds_layer":true})"));
  EXPECT_FALSE(RecordInfo::decode(R"({"created_by":"x","adds_layer":"yes"})"));
  EXPECT_FALSE(RecordInfo::decode(R"({"created_by":"x","adds_layer":true,"inputs":[]})"));
  EXPECT_FALSE(RecordInfo::decode(R"({"created_by":"x","adds_layer":true,"created":5})"));
  auto minimal = RecordInfo::decode(R"({"created_by":"x","adds_layer":true})");
  ASSERT_TRUE(minimal);
  EXPECT_EQ(minimal->created, "");
  EXPECT_TRUE(minimal->inputs.is_object());
}

TEST(RecordInfo, ExportedRecordCarriesNoInputs) {
  json record = {{"key", "sha256:cc"}, {"blob", 0}};
  sample().write_to(record);
  EXPECT_FALSE(record.contains("inputs"));
  auto back = RecordInfo::read_from(record);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->created_by, "WORKDIR /app");
  EXPECT_FALSE(back->adds_layer);
  EXPECT_TRUE(back->inputs.empty());
}

TEST(RecordInfo, StepAndSources) {
  auto info = sample();
  EXPECT_EQ(info.step(), "builder 3/7");
  EXPECT_EQ(info.sources(), (std::vector<std::string>{"sha256:aa", "sha256:bb"}));
  EXPECT_EQ(RecordInfo{}.step(), "");
  EXPECT_TRUE(RecordInfo{}.sources().empty());
}

} // namespace
} // namespace mason::cache
