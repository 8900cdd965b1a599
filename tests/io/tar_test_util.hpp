#pragma once
// Helpers for building tar streams by hand and reading shards in tests.

#include <cstring>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "atdata/io/blocking.hpp"
#include "atdata/io/shard_reader.hpp"

namespace atdata::test {

inline std::vector<std::byte> bytes_of(std::string_view s) {
  auto b = std::as_bytes(std::span(s.data(), s.size()));
  return {b.begin(), b.end()};
}

// One raw 512-byte header; `fix` may edit it before the checksum is set.
inline std::vector<std::byte> tar_header(const std::string& name, std::uint64_t size, char type = '0',
                                         const std::string& prefix = "", bool ustar = true) {
  std::vector<std::byte> h(512);
  auto put = [&](std::size_t off, std::string_view s) { std::memcpy(h.data() + off, s.data(), s.size()); };
  put(0, name.substr(0, 100));
  put(100, "0000644");
  put(108, "0000000");
  put(116, "0000000");
  char buf[32];
  std::snprintf(buf, sizeof buf, "%011llo", static_cast<unsigned long long>(size));
  put(124, buf);
  put(136, "00000000000");
  std::memset(h.data() + 148, ' ', 8);
  h[156] = static_cast<std::byte>(type);
  if (ustar) {
    put(257, std::string_view("ustar\0"
                              "00",
                              8));
    put(345, prefix.substr(0, 155));
  }
  unsigned sum = 0;
  for (auto b : h) sum += static_cast<unsigned char>(b);
  std::snprintf(buf, sizeof buf, "%06o", sum);
  put(148, buf);
  h[154] = std::byte{0};
  return h;
}

inline void append(std::vector<std::byte>& out, const std::vector<std::byte>& more) {
  out.insert(out.end(), more.begin(), more.end());
}

inline void append_member(std::vector<std::byte>& out, const std::string& name, std::string_view data,
                          char type = '0', const std::string& prefix = "") {
  append(out, tar_header(name, data.size(), type, prefix));
  append(out, bytes_of(data));
  out.resize(out.size() + (512 - data.size() % 512) % 512);
}

inline void append_end(std::vector<std::byte>& out) {
  out.resize(out.size() + 1024);
}

// Reads all samples of a shard held in memory, handing it out in chunks.
inline std::vector<RawSample> read_samples(SharedBytes shard, std::size_t chunk = 0,
                                           const std::string& url = "mem.tar") {
  asio::io_context ctx;
  ShardReader reader(make_memory_source(std::move(shard), url, chunk));
  std::vector<RawSample> out;
  run_blocking(ctx, [&]() -> asio::awaitable<void> {
    while (co_await reader.read(out, 7) > 0) {
    }
  }());
  return out;
}

inline std::vector<RawSample> read_samples(const std::vector<std::byte>& shard, std::size_t chunk = 0) {
  return read_samples(SharedBytes::copy_of(std::span<const std::byte>(shard)), chunk);
}

}  // namespace atdata::test

#include <openssl/evp.h>

namespace atdata::test {

inline std::string sha256_hex(std::span<const std::byte> data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(hex[md[i] >> 4]);
    out.push_back(hex[md[i] & 15]);
  }
  return out;
}

}  // namespace atdata::test
