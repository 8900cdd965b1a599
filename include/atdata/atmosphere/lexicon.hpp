#pragma once
// NSIDs of the records atdata publishes. Writers always use the names Python atdata writes
// (`ac.foundation.dataset.*`) because Python atdata's readers compare `$type` exactly;
// readers also accept the later upstream renames.

#include <optional>
#include <string_view>

namespace atdata::atmosphere {

inline constexpr std::string_view LEXICON_NAMESPACE = "ac.foundation.dataset";

namespace nsid {
inline constexpr std::string_view kSampleSchema = "ac.foundation.dataset.sampleSchema";
inline constexpr std::string_view kDatasetRecord = "ac.foundation.dataset.record";
inline constexpr std::string_view kLens = "ac.foundation.dataset.lens";
inline constexpr std::string_view kSchemaType = "ac.foundation.dataset.schemaType";
inline constexpr std::string_view kStorageExternal = "ac.foundation.dataset.storageExternal";
inline constexpr std::string_view kStorageBlobs = "ac.foundation.dataset.storageBlobs";
}  // namespace nsid

enum class RecordKind { schema, dataset, lens };
// "schema", "dataset", "lens" (as error messages name them).
std::string_view to_string(RecordKind kind) noexcept;

// Which atdata record a `$type` / collection names, across every namespace
// generation: Python atdata's `ac.foundation.dataset.{sampleSchema,record,lens}`, the
// interim `ac.foundation.dataset.{schema,entry}` and `science.alt.dataset.*`.
// nullopt for anything else.
std::optional<RecordKind> classify_record_type(std::string_view type) noexcept;

// The collection NSID (Python atdata's) a record kind is written to.
std::string_view collection_for(RecordKind kind) noexcept;

}  // namespace atdata::atmosphere
