#include "atdata/atmosphere/record_io.hpp"

#include "atdata/error.hpp"

namespace atdata::atmosphere::detail {

namespace asio = boost::asio;

asio::awaitable<atproto::Record> get_checked(atproto::AtmosphereClient& client, AtUri uri, RecordKind kind) {
  atproto::Record rec = co_await client.get_record(uri.authority, uri.collection, uri.rkey);
  std::string actual;
  if (const auto* o = rec.value.if_object()) {
    if (const auto* t = o->if_contains("$type"); t && t->is_string()) actual = std::string(t->get_string());
  }
  if (classify_record_type(actual) != kind) {
    throw RecordError("$type", "Record at " + uri.str() + " is not a " + std::string(to_string(kind)) +
                                   " record. Expected $type='" + std::string(collection_for(kind)) +
                                   "', got '" + actual + "'");
  }
  if (rec.uri.empty()) rec.uri = uri.str();
  co_return rec;
}

asio::awaitable<void> list_collection(atproto::AtmosphereClient& client, std::string collection,
                                      std::string repo, std::size_t max,
                                      const std::function<void(atproto::Record&)>& each) {
  atproto::ListRecordsOptions opt;
  opt.repo = std::move(repo);
  opt.limit = 100;
  std::size_t seen = 0;
  auto pager = client.list_all_records(std::move(collection), opt);
  while (auto page = co_await pager.next()) {
    for (auto& r : page->records) {
      if (max != 0 && seen >= max) co_return;
      ++seen;
      each(r);
    }
  }
}

}  // namespace atdata::atmosphere::detail
