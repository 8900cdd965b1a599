#pragma once
// Strict DAG-CBOR, the binary form of the ATProto data model (records, commit
// blocks, event-stream frames). Sans-I/O: decoding works on a byte buffer
// and yields a zero-copy value whose text, bytes and links point into that
// buffer, so the buffer must outlive the value. Anything that is not
// canonical DAG-CBOR is rejected with DecodeError (non-shortest integers and
// lengths, indefinite lengths, unsorted or duplicate or non-text map keys,
// tags other than 42, floats, undefined and other simple values, invalid
// UTF-8), so encode(decode(b)) == b for every accepted b.

#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace atdata::atproto {

// Bounds checked before anything is allocated; a declared length larger than
// the remaining input is rejected at once.
struct DagCborLimits {
  std::size_t max_depth = 64;                // nested lists/maps
  std::size_t max_container_items = 100000;  // entries of one list or map
  std::size_t max_total_items = 1000000;     // entries of all containers
};

class DagCborValue {
 public:
  enum class Kind { null, boolean, integer, text, bytes, list, map, link };

  static DagCborValue make_null() { return DagCborValue(); }
  static DagCborValue make_bool(bool b);
  static DagCborValue make_int(std::int64_t i);
  static DagCborValue make_text(std::string_view s);
  static DagCborValue make_bytes(std::span<const std::byte> b);
  // `cid` is the binary CID, without the 0x00 multibase prefix.
  static DagCborValue make_link(std::span<const std::byte> cid);
  static DagCborValue make_list(std::vector<DagCborValue> items);
  // Keys in any order; encode() sorts them.
  static DagCborValue make_map(std::vector<std::string_view> keys, std::vector<DagCborValue> values);

  Kind kind() const noexcept { return kind_; }
  bool is_null() const noexcept { return kind_ == Kind::null; }
  // Accessors throw SchemaError when the kind differs.
  bool as_bool() const;
  std::int64_t as_int() const;
  std::string_view as_text() const;
  std::span<const std::byte> as_bytes() const;
  // Binary CID (no 0x00 prefix) and its text form ("bafyrei…").
  std::span<const std::byte> as_link() const;
  std::string link_string() const;
  // Lists and maps: entries in order (maps: canonical key order when decoded).
  const std::vector<DagCborValue>& items() const;
  const std::vector<std::string_view>& keys() const;  // maps only
  // Map lookup; nullptr when absent or not a map.
  const DagCborValue* find(std::string_view key) const;
  std::size_t size() const noexcept { return items_.size(); }

 private:
  friend class DagCborDecoder;
  Kind kind_ = Kind::null;
  std::int64_t int_ = 0;             // integer; boolean (0/1)
  const std::byte* data_ = nullptr;  // text, bytes, link
  std::size_t size_ = 0;
  std::vector<std::string_view> keys_;
  std::vector<DagCborValue> items_;
};

// "null", "boolean", "integer", "text", "bytes", "list", "map", "link" (for
// error messages: "field 'rev' is integer, expected text").
const char* to_string(DagCborValue::Kind kind) noexcept;

struct DagCborPrefix {
  DagCborValue value;
  std::size_t end = 0;  // offset just past the value
};

// Exactly one value filling `data`.
DagCborValue dag_cbor_decode(std::span<const std::byte> data, const DagCborLimits& limits = {});
// One value at the start of `data`, followed by anything (event-stream frames
// are a header value then a body value). Offsets in errors are from data[0].
DagCborPrefix dag_cbor_decode_prefix(std::span<const std::byte> data, const DagCborLimits& limits = {});

// Canonical bytes. Throws InvalidArgument for duplicate map keys or a link
// that is not a binary CIDv1.
std::vector<std::byte> dag_cbor_encode(const DagCborValue& value);
void dag_cbor_encode(const DagCborValue& value, std::vector<std::byte>& out);

// ATProto JSON form: links {"$link": "<cid>"}, bytes {"$bytes": "<standard
// base64, unpadded>"}.
boost::json::value dag_cbor_to_json(const DagCborValue& value);

// The other way: a value of the ATProto JSON data model (a record as XRPC
// returns it) to its canonical DAG-CBOR bytes, the bytes its CID is computed
// over: cid_v1_sha256(kCodecDagCbor, sha256(bytes)) is the record's CID.
// Throws InvalidArgument naming the member ("embed.images[0].size") for what
// the data model cannot hold: floats, integers beyond int64, a malformed
// $link or $bytes, invalid UTF-8.
std::vector<std::byte> dag_cbor_encode_json(const boost::json::value& value);

}  // namespace atdata::atproto
