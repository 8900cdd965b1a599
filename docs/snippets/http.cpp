// The C++ block of docs/http.md, compiled and run (CTest: snippet_http):
// the small request goes to the real PDS (createSession), the streamed one
// to a file served by the nginx fixture.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "atdata/core/shared_bytes.hpp"
#include "atdata/io/blocking.hpp"
#include "snippet_support.hpp"

// [snippet http-client]
#include "atdata/net/http_client.hpp"
using namespace atdata::net;
using atdata::SharedBytes;

// [end http-client]

namespace {

namespace asio = boost::asio;
using snippet::check;

std::uint64_t consumed = 0;
void consume(const SharedBytes& chunk) {
  consumed += chunk.size();
}

asio::awaitable<void> http(asio::io_context& ioc, std::string url, std::string json_text,
                           std::string shard_url, std::uint64_t shard_size) {
  // [snippet http-client]
  HttpClient client(ioc.get_executor());  // default HttpClientOptions

  // Small bodies, read fully (bounded by options().max_body_bytes):
  HttpRequest post("POST", url, {{"Content-Type", "application/json"}}, json_text);
  HttpResponse r = co_await client.request(std::move(post));
  r.throw_if_error();  // non-2xx → atdata::HttpError
  auto doc = boost::json::parse(r.body);

  // Large bodies, streamed in SharedBytes chunks (never held whole):
  HttpResponseStream s = co_await client.open(HttpRequest("GET", shard_url));
  co_await s.throw_if_error();  // reads a short snippet for the message
  for (;;) {
    SharedBytes chunk = co_await s.next();  // empty = end of body
    if (chunk.empty()) break;
    consume(chunk);
  }
  // … or everything at once, with a hard cap checked against Content-Length first:
  HttpResponseStream all = co_await client.open(HttpRequest("GET", shard_url));
  SharedBytes blob = co_await all.read_all(/*limit=*/64 << 20);
  // [end http-client]
  check(doc.as_object().contains("accessJwt"), "createSession answered with a session");
  check(consumed == shard_size && blob.size() == shard_size, "the streamed and the whole body are the file");
}

}  // namespace

int main() {
  return snippet::run("snippet_http", [] {
    const std::string run = snippet::env("ATDATA_NGINX_RUN_DIR");
    std::string base;
    std::getline(std::ifstream(run + "/url"), base);
    check(!base.empty(), "the nginx fixture wrote its URL");
    // 5 MiB: several chunks.
    const std::uint64_t size = 5u << 20;
    {
      std::vector<char> bytes(size);
      for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7);
      std::ofstream(run + "/www/snippet-http.bin", std::ios::binary).write(bytes.data(), bytes.size());
    }
    boost::json::object login{{"identifier", snippet::env("ATDATA_HANDLE")},
                              {"password", snippet::env("ATDATA_PASSWORD")}};
    asio::io_context ioc;
    atdata::run_blocking(ioc,
                         http(ioc, snippet::env("ATDATA_PDS_URL") + "/xrpc/com.atproto.server.createSession",
                              boost::json::serialize(login), base + "/snippet-http.bin", size));
  });
}
