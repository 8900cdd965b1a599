// The C++ block of docs/atproto.md, compiled and run against the real PDS
// (CTest: snippet_atproto; tools/pds/with-env.sh exports the ATDATA_* variables).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <string>

#include "atdata/io/blocking.hpp"
#include "snippet_support.hpp"

namespace asio = boost::asio;

namespace {

// The snippet calls use() first with the record it created and read back,
// then with every listed record.
std::string created_uri;
bool listed_it = false;

void use(const std::string& uri, const std::string& cid, const boost::json::value& value) {
  snippet::check(!cid.empty() && value.is_object(), "records carry a CID and a value");
  if (created_uri.empty()) {
    snippet::check(value.at("text") == "hello", "get_record returns what was created");
    created_uri = uri;
  } else if (uri == created_uri) {
    listed_it = true;
  }
}

}  // namespace

// [snippet atproto-client]
#include "atdata/atproto/atmosphere_client.hpp"
using namespace atdata::atproto;

asio::awaitable<void> demo(asio::any_io_executor ex, std::string handle, std::string app_password) {
  // ATDATA_PDS_URL (default https://bsky.social) and ATDATA_PLC_URL:
  AtmosphereClient client(ex, AtmosphereClient::options_from_env());
  co_await client.login(handle, app_password);
  std::string did = client.did();  // from createSession

  boost::json::object note{{"$type", "com.example.note"}, {"text", "hello"}};
  RecordRef ref = co_await client.create_record("com.example.note", note);
  std::string rkey = ref.uri.substr(ref.uri.rfind('/') + 1);  // at://<did>/<collection>/<rkey>
  Record r = co_await client.get_record(did, "com.example.note", rkey);
  use(r.uri, r.cid, r.value);

  auto pager = client.list_all_records("com.example.note");
  while (auto page = co_await pager.next())
    for (const Record& rec : page->records) use(rec.uri, rec.cid, rec.value);
}
// [end atproto-client]

int main() {
  return snippet::run("snippet_atproto", [] {
    asio::io_context io;
    atdata::run_blocking(
        io, demo(io.get_executor(), snippet::env("ATDATA_HANDLE"), snippet::env("ATDATA_PASSWORD")));
    snippet::check(listed_it, "list_all_records found the created record");
  });
}
