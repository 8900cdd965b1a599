#include "atdata/net/http_byte_source.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "atdata/error.hpp"
#include "atdata/net/url.hpp"

namespace atdata::net {

namespace {

// "bytes 100-999/1000" → 100 (the range start); nullopt if malformed.
std::optional<std::uint64_t> content_range_start(std::string_view v) {
  if (v.substr(0, 6) != "bytes ") return std::nullopt;
  v.remove_prefix(6);
  std::uint64_t n = 0;
  std::size_t i = 0;
  for (; i < v.size() && v[i] >= '0' && v[i] <= '9'; ++i) {
    if (n > (UINT64_MAX - 9) / 10) return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(v[i] - '0');
  }
  if (i == 0 || i >= v.size() || v[i] != '-') return std::nullopt;
  return n;
}

}  // namespace

HttpByteSource::HttpByteSource(std::shared_ptr<HttpClient> client, std::string url, HttpSourceOptions options)
    : client_(std::move(client)), request_url_(std::move(url)), options_(std::move(options)) {
  url_ = options_.name.empty() ? request_url_ : options_.name;
  if (!client_) throw InvalidArgument("HttpByteSource needs an HttpClient");
  HttpUrl::parse(request_url_);  // fail early, naming the URL
}

HttpByteSource::~HttpByteSource() = default;

std::optional<std::string> HttpByteSource::validator() const noexcept {
  if (validator_.empty()) return std::nullopt;
  try {
    return validator_;
  } catch (...) {  // out of memory copying a header value
    return std::nullopt;
  }
}

asio::awaitable<void> HttpByteSource::start(std::uint64_t offset) {
  HttpRequest req("GET", request_url_, options_.headers);
  if (offset > 0) {
    req.headers.set("Range", "bytes=" + std::to_string(offset) + "-");
    req.headers.set("If-Range", validator_);
  }
  if (options_.prepare) options_.prepare(req);
  stream_ = co_await client_->open(std::move(req));
  if (offset == 0) {
    co_await throw_if_error();
    size_ = stream_.content_length();
    auto etag = stream_.headers().get("ETag");
    if (etag && etag->substr(0, 2) != "W/") {
      validator_ = std::string(*etag);
    } else if (auto lm = stream_.headers().get("Last-Modified")) {
      validator_ = std::string(*lm);
    }
  }
}

asio::awaitable<void> HttpByteSource::throw_if_error() {
  if (!stream_.ok() && options_.on_error) co_await options_.on_error(stream_);
  co_await stream_.throw_if_error();
}

asio::awaitable<SharedBytes> HttpByteSource::next_chunk() {
  if (finished_) co_return SharedBytes{};
  if (!started_) {
    started_ = true;
    co_await start(0);
  }
  std::chrono::milliseconds backoff = options_.resume_backoff;
  SharedBytes chunk;
  for (;;) {
    std::exception_ptr failure;
    try {
      chunk = co_await stream_.next();
      break;
    } catch (const HttpError&) {
      throw;
    } catch (const NetworkError&) {
      failure = std::current_exception();
    }
    // Transport failure mid-body: resume from the exact offset, or report it.
    const bool resumable =
        !validator_.empty() && resumes_ < options_.max_resume_attempts && (!size_ || offset_ < *size_);
    if (!resumable) {
      std::string why;
      try {
        std::rethrow_exception(failure);
      } catch (const std::exception& e) {
        why = e.what();
      }
      throw NetworkError("GET " + url_ + ": body interrupted at byte " + std::to_string(offset_) +
                         (size_ ? " of " + std::to_string(*size_) : std::string()) +
                         (resumes_ ? " after " + std::to_string(resumes_) + " resume(s)" : std::string()) +
                         ": " + why);
    }
    ++resumes_;
    asio::steady_timer timer(co_await asio::this_coro::executor, backoff);
    co_await timer.async_wait(asio::use_awaitable);
    backoff *= 2;
    co_await start(offset_);
    if (stream_.status() != 206) {
      // 200 means the entity changed (If-Range failed) or ranges are not
      // supported; either way the bytes already delivered cannot be trusted
      // to continue.
      co_await throw_if_error();
      throw NetworkError("GET " + url_ + ": cannot resume at byte " + std::to_string(offset_) +
                         ": server answered " + std::to_string(stream_.status()) + " instead of 206");
    }
    auto cr = stream_.headers().get("Content-Range");
    if (!cr || content_range_start(*cr) != offset_) {
      throw NetworkError("GET " + url_ + ": cannot resume at byte " + std::to_string(offset_) +
                         ": Content-Range does not start there");
    }
  }
  if (chunk.empty()) {
    finished_ = true;
    if (size_ && offset_ != *size_) {
      throw NetworkError("GET " + url_ + ": body ended at byte " + std::to_string(offset_) + " of " +
                         std::to_string(*size_));
    }
    co_return chunk;
  }
  offset_ += chunk.size();
  co_return chunk;
}

ByteSourcePtr open_http_source(std::shared_ptr<HttpClient> client, std::string url,
                               HttpSourceOptions options) {
  return std::make_unique<HttpByteSource>(std::move(client), std::move(url), std::move(options));
}

}  // namespace atdata::net
