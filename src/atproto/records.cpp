#include "atdata/atproto/records.hpp"

#include <limits>

#include "atdata/error.hpp"

namespace atdata::atproto {

boost::json::object BlobRef::to_json() const {
  boost::json::object o;
  o["$type"] = "blob";
  o["ref"] = boost::json::object{{"$link", cid}};
  o["mimeType"] = mime_type;
  o["size"] = size;
  return o;
}

BlobRef BlobRef::from_json(const boost::json::value& v) {
  const auto* o = v.if_object();
  if (!o) throw RecordError("blob ref: not a JSON object");
  if (const auto* inner = o->if_contains("blob"); inner && inner->is_object() && !o->contains("ref")) {
    o = &inner->as_object();
  }
  BlobRef out;
  const auto* ref = o->if_contains("ref");
  const auto* link = ref && ref->is_object() ? ref->as_object().if_contains("$link") : nullptr;
  if (!link || !link->is_string()) throw RecordError("blob ref: member 'ref.$link' missing or not a string");
  out.cid = std::string(link->as_string());
  const auto* mime = o->if_contains("mimeType");
  if (!mime || !mime->is_string()) throw RecordError("blob ref: member 'mimeType' missing or not a string");
  out.mime_type = std::string(mime->as_string());
  const auto* size = o->if_contains("size");
  if (size && size->is_int64() && size->as_int64() >= 0) {
    out.size = static_cast<std::uint64_t>(size->as_int64());
  } else if (size && size->is_uint64()) {
    out.size = size->as_uint64();
  } else {
    throw RecordError("blob ref: member 'size' missing or not a non-negative integer");
  }
  return out;
}

}  // namespace atdata::atproto
