#pragma once
// Every timeout and limit of the HTTP client lives in this one struct, with
// defaults that suit both XRPC calls (small JSON bodies) and shard streaming
// (long bodies read chunk by chunk). Timeouts are per operation, not per
// request: a 10 GB shard may take minutes, but no single read may stall.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace atdata::net {

struct TlsOptions {
  // Certificate chain and host-name verification. Turning it off is an
  // explicit opt-out for test rigs only; it is never done implicitly.
  bool verify_peer = true;
  // Trust the system's default CA store (OpenSSL default verify paths).
  bool use_system_ca = true;
  // An additional PEM bundle of trusted CAs (e.g. a private or test CA).
  std::string ca_file;
};

struct HttpClientOptions {
  // DNS resolution plus TCP connect (all addresses tried within this budget).
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds tls_handshake_timeout{10'000};
  // Each write: the request header, then each request body chunk.
  std::chrono::milliseconds write_timeout{30'000};
  // From the end of the request until the complete response header arrived.
  std::chrono::milliseconds read_header_timeout{30'000};
  // Longest gap allowed while reading a response body (per chunk read).
  std::chrono::milliseconds read_body_idle_timeout{30'000};
  // Pooled connections idle longer than this are closed instead of reused.
  std::chrono::milliseconds pool_idle_timeout{30'000};

  // Largest response header accepted (status line + fields).
  std::size_t max_header_bytes = 64 * 1024;
  // Largest body HttpClient::request() reads into memory; streaming callers
  // choose their own limit in HttpResponseStream::read_all().
  std::uint64_t max_body_bytes = 64ull * 1024 * 1024;
  // Size of the SharedBytes chunks a streaming body is delivered in.
  std::size_t body_chunk_bytes = 1024 * 1024;

  // Connections (idle + in use) per (scheme, host, port); further requests
  // wait in FIFO order until one is returned.
  std::size_t max_connections_per_host = 8;

  // Redirects are followed for GET and HEAD only (301/302/303/307/308).
  bool follow_redirects = true;
  int max_redirects = 5;

  std::string user_agent = "atdata-cpp/0.1";

  TlsOptions tls;
};

using HttpConfig = HttpClientOptions;

}  // namespace atdata::net
