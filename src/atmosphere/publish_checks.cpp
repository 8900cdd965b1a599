#include "atmosphere/publish_checks.hpp"

#include <charconv>
#include <string>

#include "atdata/atmosphere/lexicon_validation.hpp"
#include "atdata/error.hpp"

namespace atdata::atmosphere::detail {

namespace json = boost::json;

namespace {

// The value at a member path of the form "a.b[2]" (nullptr when absent).
const json::value* at_member(const json::object& record, std::string_view path) {
  const json::value* cur = nullptr;
  const json::object* obj = &record;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '[') {
      std::size_t close = path.find(']', i);
      if (!cur || !cur->is_array() || close == std::string_view::npos) return nullptr;
      std::size_t idx = 0;
      auto digits = path.substr(i + 1, close - i - 1);
      if (std::from_chars(digits.data(), digits.data() + digits.size(), idx).ec != std::errc())
        return nullptr;
      if (idx >= cur->get_array().size()) return nullptr;
      cur = &cur->get_array()[idx];
      i = close + 1;
      continue;
    }
    if (path[i] == '.') ++i;
    std::size_t end = path.find_first_of(".[", i);
    if (end == std::string_view::npos) end = path.size();
    if (cur) obj = cur->if_object();
    if (!obj) return nullptr;
    cur = obj->if_contains(path.substr(i, end - i));
    if (!cur) return nullptr;
    i = end;
  }
  return cur;
}

std::string hint_for(const json::object& record, const LexiconProblem& p) {
  if (p.member.starts_with("storage.urls[") && p.message.ends_with("must be a uri")) {
    const json::value* v = at_member(record, p.member);
    std::string url = v && v->is_string() ? std::string(v->get_string()) : std::string();
    std::string h = "'" + url + "' is not an absolute URL";
    if (url.starts_with("file:"))
      h = "'" + url + "' names a file on this machine, not a URI others can resolve";
    return h +
           ". Shard URLs in a dataset record must be URLs any reader can fetch, such as "
           "https://host/data-{000000..000009}.tar or s3://bucket/data.tar; to publish local shard files, "
           "upload them as PDS blobs (DatasetPublisher::publish_with_blobs, or atdata publish --blobs)";
  }
  if (p.member == "getterCode" || p.member == "putterCode") {
    return "the lens lexicon requires code references for both the getter and the putter "
           "(repository, commit and path of each function)";
  }
  if (p.member == "schemaRef" || p.member == "sourceSchema" || p.member == "targetSchema") {
    return "this member must be the AT-URI of a published schema record, "
           "at://<did>/ac.foundation.dataset.sampleSchema/<rkey>";
  }
  return {};
}

}  // namespace

void check_before_write(std::string_view collection, const json::object& record, std::string_view what) {
  const LexiconCatalog& lexicons = LexiconCatalog::shipped();
  if (!lexicons.has_record(collection)) return;
  auto p = lexicons.check_record(collection, record);
  if (!p) return;
  std::string msg =
      std::string(what) + " is not valid by the lexicon of " + std::string(collection) + ": " + p->message;
  if (std::string h = hint_for(record, *p); !h.empty()) msg += "; " + h;
  msg += " (the record was not written; set the options' validate = false to write it anyway)";
  throw RecordError(std::move(p->member), msg);
}

json::object placeholder_blob_ref() {
  json::object ref;
  ref["$type"] = "blob";
  ref["ref"] = json::object{{"$link", "bafkreifkcb4scjqe7pqotfx6da2h6stq7j4bzhwpfhia6dnm26u6dhduz4"}};
  ref["mimeType"] = "application/octet-stream";
  ref["size"] = 0;
  return ref;
}

}  // namespace atdata::atmosphere::detail
