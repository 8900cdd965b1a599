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

namespace {
// A map whose only key is "$link" or "$bytes" reads back from JSON as a link
// or bytes: the JSON form cannot tell them apart, so the JSON round trip only
// holds for values without such maps.
bool has_lookalike(const atproto::DagCborValue& v) {
  using K = atproto::DagCborValue::Kind;
  if (v.kind() == K::map && v.size() == 1 && (v.keys()[0] == "$link" || v.keys()[0] == "$bytes")) return true;
  if (v.kind() == K::map || v.kind() == K::list) {
    for (const auto& item : v.items())
      if (has_lookalike(item)) return true;
  }
  return false;
}
}  // namespace

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
    const bool same = via_json.size() == size && std::memcmp(via_json.data(), data, size) == 0;
    if (!same && !has_lookalike(v)) std::abort();
  } catch (const InvalidArgument&) {
    if (!has_lookalike(v)) std::abort();
  }
  (void)boost::json::serialize(json);
  return 0;
}
