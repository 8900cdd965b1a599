// DAG-CBOR from anyone's repository: decode strictly or throw DecodeError.
// Whatever decodes is canonical, so it re-encodes to the input byte for byte,
// both directly and through the ATProto JSON form (the path a record takes
// from getRecord to its CID).
#include <boost/json/serialize.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "atdata/atproto/dag_cbor.hpp"
#include "atdata/error.hpp"

using namespace atdata;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
  try {
    (void)atproto::dag_cbor_decode_prefix(in);
  } catch (const Error&) {
  }
  atproto::DagCborValue v;
  try {
    v = atproto::dag_cbor_decode(in);
  } catch (const Error&) {
    return 0;
  }
  const auto again = atproto::dag_cbor_encode(v);
  if (again.size() != size || std::memcmp(again.data(), data, size) != 0) std::abort();
  const auto json = atproto::dag_cbor_to_json(v);
  try {
    const auto via_json = atproto::dag_cbor_encode_json(json);
    if (via_json.size() != size || std::memcmp(via_json.data(), data, size) != 0) std::abort();
  } catch (const InvalidArgument&) {
    // A map that is exactly {"$link": …} or {"$bytes": …} in CBOR reads back
    // as a link or bytes from JSON; the data model makes the two forms
    // ambiguous, so that is the one allowed difference.
  }
  (void)boost::json::serialize(json);
  return 0;
}
