#pragma once
// Dataset metadata maps. A dataset record carries the caller's map as msgpack
// bytes; in C++ the map is a JSON object, encoded the way
// Python `msgpack.packb` encodes the equivalent dict.

#include <cstddef>
#include <span>
#include <vector>

#include <boost/json/object.hpp>

namespace atdata::atmosphere {

// str → str, int64/uint64 → smallest int family, double → float64, bool, null →
// nil, array → array, object → map (member order kept).
std::vector<std::byte> encode_metadata(const boost::json::object& map);

// The inverse. msgpack bin values become {"$bytes": base64} (the ATProto JSON
// convention); float32 widens to double; integer map keys become their decimal
// text. Throws atdata::DecodeError when the bytes are not exactly one map.
boost::json::object decode_metadata(std::span<const std::byte> bytes);

}  // namespace atdata::atmosphere
