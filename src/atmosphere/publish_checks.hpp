#pragma once
// The check every publisher runs before writing a record: the record must be
// valid by the lexicon the library ships for its collection.

#include <string_view>

#include <boost/json/object.hpp>

namespace atdata::atmosphere::detail {

// Throws RecordError (member = the offending member) when `record` is not a
// valid record of `collection`: "<what> is not valid by the lexicon of
// <collection>: <validator message>", a hint for the known mistakes (shard
// URLs that are local paths, lenses without code references), and how to
// skip the check. Collections without a shipped lexicon are not checked.
void check_before_write(std::string_view collection, const boost::json::object& record,
                        std::string_view what);

// A blob ref / AT-URI of the right shape, standing in for one known only
// after uploads or an earlier write, so a draft record can be checked before
// that I/O.
boost::json::object placeholder_blob_ref();
inline constexpr std::string_view kPlaceholderSchemaUri =
    "at://did:plc:placeholder/ac.foundation.dataset.sampleSchema/3lc2q7xyzab2k";

}  // namespace atdata::atmosphere::detail
