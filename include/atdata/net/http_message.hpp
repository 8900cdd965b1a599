#pragma once
// Requests and responses as plain values, so callers (XRPC, blob download,
// shard streaming) never see Beast types.

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "atdata/core/shared_bytes.hpp"
#include "atdata/io/asio_build.hpp"

namespace atdata::net {

// Ordered header fields; names compare case-insensitively.
class HttpHeaders {
 public:
  using Field = std::pair<std::string, std::string>;

  HttpHeaders() = default;
  HttpHeaders(std::initializer_list<Field> fields) : fields_(fields) {}

  void add(std::string name, std::string value) { fields_.emplace_back(std::move(name), std::move(value)); }
  // Replaces every field of that name with one field.
  void set(std::string name, std::string value);
  void erase(std::string_view name);
  bool contains(std::string_view name) const { return get(name).has_value(); }
  // The first field of that name.
  std::optional<std::string_view> get(std::string_view name) const;

  auto begin() const { return fields_.begin(); }
  auto end() const { return fields_.end(); }
  std::size_t size() const noexcept { return fields_.size(); }
  bool empty() const noexcept { return fields_.empty(); }

 private:
  std::vector<Field> fields_;
};

// Produces the next chunk of a streamed request body; an empty chunk ends it.
using BodyChunkReader = std::function<boost::asio::awaitable<SharedBytes>()>;

// A request body. Memory bodies are sent as they are; stream bodies are sent
// with the declared Content-Length (a producer that yields more or fewer bytes
// fails the request). A stream body is opened once per attempt, so a request
// can be replayed after a stale keep-alive connection failed.
class RequestBody {
 public:
  RequestBody() = default;  // no body
  RequestBody(std::string s) : v_(std::move(s)) {}
  RequestBody(const char* s) : v_(std::string(s)) {}
  RequestBody(SharedBytes b) : v_(std::move(b)) {}

  struct Stream {
    std::uint64_t length = 0;
    std::function<BodyChunkReader()> open;
  };
  static RequestBody from_stream(std::uint64_t length, std::function<BodyChunkReader()> open) {
    RequestBody b;
    b.v_ = Stream{length, std::move(open)};
    return b;
  }
  // Streams a file in chunks (read with blocking I/O on the calling thread;
  // fine for page-cache speeds). Throws if the file cannot be opened.
  static RequestBody from_file(const std::string& path, std::size_t chunk_bytes = 1024 * 1024);

  bool empty() const noexcept { return std::holds_alternative<std::monostate>(v_); }
  std::uint64_t size() const noexcept;
  const auto& variant() const noexcept { return v_; }

 private:
  std::variant<std::monostate, std::string, SharedBytes, Stream> v_;
};

// Not an aggregate on purpose: GCC 12 double-frees a brace-initialised
// aggregate temporary passed by value to a coroutine inside co_await.
struct HttpRequest {
  HttpRequest() = default;
  HttpRequest(std::string method_, std::string url_, HttpHeaders headers_ = {}, RequestBody body_ = {})
      : method(std::move(method_)),
        url(std::move(url_)),
        headers(std::move(headers_)),
        body(std::move(body_)) {}

  std::string method = "GET";
  std::string url;
  HttpHeaders headers;
  RequestBody body;
  // Overrides HttpClientOptions::follow_redirects for this request.
  std::optional<bool> follow_redirects;
};

// A response read fully into memory (bounded by max_body_bytes).
struct HttpResponse {
  int status = 0;
  HttpHeaders headers;
  std::string body;
  std::string url;  // the final URL, after redirects

  bool ok() const noexcept { return status >= 200 && status < 300; }
  // Throws atdata::HttpError(status, url, <first bytes of the body>) unless 2xx.
  void throw_if_error() const;
};

// The short, printable body excerpt HttpError messages carry.
std::string body_snippet(std::string_view body, std::size_t max = 200);

}  // namespace atdata::net
