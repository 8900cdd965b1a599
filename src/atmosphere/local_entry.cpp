#include "atdata/atmosphere/local_entry.hpp"

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include "atdata/atmosphere/metadata.hpp"
#include "atdata/atproto/cid.hpp"
#include "atdata/atproto/dag_cbor.hpp"
#include "atdata/core/msgpack.hpp"
#include "atdata/error.hpp"

namespace atdata::atmosphere {

namespace json = boost::json;

namespace {

constexpr unsigned kDagCborCodec = 0x71;

std::span<const std::byte> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

std::string to_string(const std::vector<std::byte>& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

}  // namespace

std::string local_entry_cid(std::string_view schema_ref, std::span<const std::string> data_urls) {
  // The canonical DAG-CBOR encoder sorts the keys (data_urls before
  // schema_ref: shorter first), so the bytes equal libipld's.
  json::object map;
  json::array urls;
  urls.reserve(data_urls.size());
  for (const auto& u : data_urls) urls.emplace_back(u);
  map["schema_ref"] = schema_ref;
  map["data_urls"] = std::move(urls);
  const std::vector<std::byte> cbor = atproto::dag_cbor_encode_json(map);
  return atproto::cid_v1_sha256(kDagCborCodec, atproto::sha256(cbor));
}

LocalDatasetEntry::LocalDatasetEntry(std::string name, std::string schema_ref,
                                     std::vector<std::string> data_urls, std::optional<json::object> metadata)
    : LocalDatasetEntry(
          stored({}, std::move(name), std::move(schema_ref), std::move(data_urls), std::move(metadata))) {}

LocalDatasetEntry LocalDatasetEntry::stored(std::string cid, std::string name, std::string schema_ref,
                                            std::vector<std::string> data_urls,
                                            std::optional<json::object> metadata, std::string legacy_uuid) {
  if (cid.empty()) cid = local_entry_cid(schema_ref, data_urls);
  return LocalDatasetEntry(IndexEntry(std::move(name), std::move(schema_ref), std::move(data_urls),
                                      std::move(metadata), std::move(cid)),
                           std::move(legacy_uuid));
}

namespace detail {

std::string encode_url_list(std::span<const std::string> urls) {
  std::vector<std::byte> out;
  msgpack::Writer w(out);
  w.write_array_header(static_cast<std::uint32_t>(urls.size()));
  for (const auto& u : urls) w.write_str(u);
  return to_string(out);
}

std::vector<std::string> decode_url_list(std::string_view bytes) {
  msgpack::Reader r(as_bytes(bytes));
  const std::uint32_t n = r.read_array_header();
  std::vector<std::string> urls;
  urls.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) urls.emplace_back(r.read_str());
  if (!r.at_end()) throw DecodeError("trailing bytes after the URL list", r.offset());
  return urls;
}

std::vector<HashField> encode_entry_fields(const LocalDatasetEntry& e) {
  std::vector<HashField> f;
  f.reserve(6);
  f.emplace_back("name", e.name());
  f.emplace_back("schema_ref", e.schema_ref());
  f.emplace_back("data_urls", encode_url_list(e.data_urls()));
  f.emplace_back("cid", e.cid());
  if (e.metadata()) f.emplace_back("metadata", to_string(encode_metadata(*e.metadata())));
  if (!e.legacy_uuid().empty()) f.emplace_back("legacy_uuid", e.legacy_uuid());
  return f;
}

const std::string* find_field(std::span<const HashField> fields, std::string_view name) noexcept {
  for (const auto& [k, v] : fields) {
    if (k == name) return &v;
  }
  return nullptr;
}

LocalDatasetEntry decode_entry_fields(std::span<const HashField> fields) {
  const std::string* name = find_field(fields, "name");
  const std::string* schema_ref = find_field(fields, "schema_ref");
  const std::string* urls = find_field(fields, "data_urls");
  const std::string* cid = find_field(fields, "cid");
  const std::string* metadata = find_field(fields, "metadata");
  const std::string* legacy = find_field(fields, "legacy_uuid");
  if (name == nullptr) throw DecodeError("name", "the field is missing", std::nullopt);
  if (schema_ref == nullptr) throw DecodeError("schema_ref", "the field is missing", std::nullopt);
  if (urls == nullptr) throw DecodeError("data_urls", "the field is missing", std::nullopt);
  std::vector<std::string> data_urls;
  try {
    data_urls = decode_url_list(*urls);
  } catch (const DecodeError& e) {
    throw DecodeError("data_urls", e.message(), e.offset());
  }
  std::optional<json::object> meta;
  if (metadata != nullptr) {
    try {
      meta = decode_metadata(as_bytes(*metadata));
    } catch (const DecodeError& e) {
      throw DecodeError("metadata", e.message(), e.offset());
    }
  }
  // As Python: a stored `cid` is taken as is, an absent one recomputed from
  // the content (LocalIndex reports either when it differs from the key).
  std::string c = cid != nullptr ? *cid : std::string();
  return LocalDatasetEntry::stored(std::move(c), *name, *schema_ref, std::move(data_urls), std::move(meta),
                                   legacy != nullptr ? *legacy : std::string());
}

}  // namespace detail

}  // namespace atdata::atmosphere
