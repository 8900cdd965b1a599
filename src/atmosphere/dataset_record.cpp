#include "atdata/atmosphere/dataset_record.hpp"

#include <boost/json/array.hpp>

#include "atdata/atmosphere/lexicon.hpp"
#include "atdata/error.hpp"
#include "atmosphere/base64.hpp"
#include "atmosphere/json_reader.hpp"

namespace atdata::atmosphere {

namespace json = boost::json;
using detail::ObjectReader;

namespace {

constexpr std::string_view kWhat = "dataset record";

std::optional<ShardChecksum> read_checksum(const ObjectReader& r) {
  const json::object* c = r.optional_object("checksum");
  if (!c) return std::nullopt;
  ObjectReader cr(*r.find("checksum"), kWhat, r.member_path("checksum"));
  return ShardChecksum{cr.required_string("algorithm"), cr.required_string("digest")};
}

}  // namespace

std::string BlobEntry::cid() const {
  const json::value* r = ref.if_contains("ref");
  if (!r || !r->is_object()) return {};
  const json::value* link = r->get_object().if_contains("$link");
  if (!link || !link->is_string()) return {};
  return std::string(link->get_string());
}

StorageLocation StorageLocation::external(std::vector<std::string> urls) {
  StorageLocation s;
  s.kind = Kind::external;
  s.urls = std::move(urls);
  return s;
}

StorageLocation StorageLocation::from_blob_refs(std::vector<json::object> refs) {
  StorageLocation s;
  s.kind = Kind::blobs;
  s.blobs.reserve(refs.size());
  for (auto& r : refs) s.blobs.push_back(BlobEntry{std::move(r), std::nullopt});
  return s;
}

json::object StorageLocation::to_json() const {
  if (kind == Kind::unknown && !raw.empty()) return raw;
  json::object o;
  if (kind == Kind::external) {
    o["$type"] = nsid::kStorageExternal;
    json::array a;
    a.reserve(urls.size());
    for (const auto& u : urls) a.emplace_back(u);
    o["urls"] = std::move(a);
  } else {
    o["$type"] = nsid::kStorageBlobs;
    json::array a;
    a.reserve(blobs.size());
    for (const auto& b : blobs) a.emplace_back(b.ref);
    o["blobs"] = std::move(a);
  }
  return o;
}

StorageLocation StorageLocation::from_json(const json::value& v, std::string_view path) {
  ObjectReader r(v, kWhat, std::string(path));
  StorageLocation s;
  s.raw = r.object();
  s.type = r.optional_string("$type").value_or("");
  // Substring tests, like Python atdata: any namespace's storageExternal/storageBlobs.
  if (s.type.find("storageExternal") != std::string::npos) {
    s.kind = Kind::external;
    if (const json::array* urls = r.optional_array("urls")) {
      s.urls.reserve(urls->size());
      for (std::size_t i = 0; i < urls->size(); ++i) {
        s.urls.push_back(detail::string_at((*urls)[i], kWhat, detail::index_path(r.member_path("urls"), i)));
      }
    }
  } else if (s.type.find("storageHttp") != std::string::npos) {
    s.kind = Kind::external;
    const json::array& shards = r.required_array("shards");
    s.urls.reserve(shards.size());
    for (std::size_t i = 0; i < shards.size(); ++i) {
      ObjectReader sr(shards[i], kWhat, detail::index_path(r.member_path("shards"), i));
      s.urls.push_back(sr.required_string("url"));
      s.url_checksums.push_back(read_checksum(sr));
    }
  } else if (s.type.find("storageBlobs") != std::string::npos) {
    s.kind = Kind::blobs;
    if (const json::array* blobs = r.optional_array("blobs")) {
      s.blobs.reserve(blobs->size());
      for (std::size_t i = 0; i < blobs->size(); ++i) {
        ObjectReader br((*blobs)[i], kWhat, detail::index_path(r.member_path("blobs"), i));
        // Later upstream wraps each ref: {"blob": <ref>, "checksum"?}.
        if (const json::object* inner = br.optional_object("blob")) {
          s.blobs.push_back(BlobEntry{*inner, read_checksum(br)});
        } else {
          s.blobs.push_back(BlobEntry{br.object(), std::nullopt});
        }
      }
    }
  } else {
    s.kind = Kind::unknown;
  }
  return s;
}

bool operator==(const StorageLocation& a, const StorageLocation& b) {
  if (a.kind != b.kind) return false;
  if (a.kind == StorageLocation::Kind::unknown) return a.raw == b.raw;
  return a.urls == b.urls && a.url_checksums == b.url_checksums && a.blobs == b.blobs;
}

json::object DatasetRecord::to_record() const {
  json::object o;
  o["$type"] = nsid::kDatasetRecord;
  o["name"] = name;
  o["schemaRef"] = schema_ref;
  o["storage"] = storage.to_json();
  o["createdAt"] = format_created_at(created_at);
  if (!description.empty()) o["description"] = description;
  if (!tags.empty()) {
    json::array a;
    a.reserve(tags.size());
    for (const auto& t : tags) a.emplace_back(t);
    o["tags"] = std::move(a);
  }
  if (!license.empty()) o["license"] = license;
  if (metadata && !metadata->empty()) {
    // Python atdata put raw bytes here, which its SDK cannot serialise;
    // this is the ATProto data-model form upstream switched to.
    o["metadata"] = json::object{{"$bytes", detail::base64_encode(*metadata)}};
  }
  if (!metadata_url.empty()) o["metadataUrl"] = metadata_url;
  return o;
}

DatasetRecord DatasetRecord::from_record(const json::value& record) {
  ObjectReader r(record, kWhat, "");
  detail::require_record_type(r, RecordKind::dataset, "dataset");
  DatasetRecord out;
  out.name = r.required_string("name");
  out.schema_ref = r.required_string("schemaRef");
  out.storage = StorageLocation::from_json(r.required("storage"), "storage");
  out.created_at = detail::required_datetime(r, "createdAt");
  out.description = r.optional_string("description").value_or("");
  if (const json::array* tags = r.optional_array("tags")) {
    out.tags.reserve(tags->size());
    for (std::size_t i = 0; i < tags->size(); ++i) {
      out.tags.push_back(detail::string_at((*tags)[i], kWhat, detail::index_path("tags", i)));
    }
  }
  out.license = r.optional_string("license").value_or("");
  if (const json::object* m = r.optional_object("metadata")) {
    if (const json::value* b = m->if_contains("$bytes")) {
      if (!b->is_string()) detail::fail_type(kWhat, "metadata.$bytes", "a string", *b);
      auto bytes = detail::base64_decode(b->get_string());
      if (!bytes) r.fail("metadata.$bytes", "is not valid base64");
      out.metadata = std::move(*bytes);
    } else {
      out.metadata_object = *m;
    }
  }
  out.metadata_url = r.optional_string("metadataUrl").value_or("");
  return out;
}

bool operator==(const DatasetRecord& a, const DatasetRecord& b) {
  return a.name == b.name && a.schema_ref == b.schema_ref && a.storage == b.storage &&
         a.description == b.description && a.tags == b.tags && a.license == b.license &&
         a.created_at == b.created_at && a.metadata == b.metadata && a.metadata_url == b.metadata_url &&
         a.metadata_object == b.metadata_object;
}

}  // namespace atdata::atmosphere
