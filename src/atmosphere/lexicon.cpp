#include "atdata/atmosphere/lexicon.hpp"

namespace atdata::atmosphere {

std::string_view to_string(RecordKind kind) noexcept {
  switch (kind) {
    case RecordKind::schema:
      return "schema";
    case RecordKind::dataset:
      return "dataset";
    case RecordKind::lens:
      return "lens";
  }
  return "";
}

std::optional<RecordKind> classify_record_type(std::string_view type) noexcept {
  static constexpr std::string_view kPrefixes[] = {"ac.foundation.dataset.", "science.alt.dataset."};
  for (std::string_view prefix : kPrefixes) {
    if (!type.starts_with(prefix)) continue;
    std::string_view rest = type.substr(prefix.size());
    if (rest == "sampleSchema" || rest == "schema") return RecordKind::schema;
    if (rest == "record" || rest == "entry") return RecordKind::dataset;
    if (rest == "lens") return RecordKind::lens;
    return std::nullopt;
  }
  return std::nullopt;
}

std::string_view collection_for(RecordKind kind) noexcept {
  switch (kind) {
    case RecordKind::schema:
      return nsid::kSampleSchema;
    case RecordKind::dataset:
      return nsid::kDatasetRecord;
    case RecordKind::lens:
      return nsid::kLens;
  }
  return {};
}

}  // namespace atdata::atmosphere
