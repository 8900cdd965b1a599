// A whole shard (optionally compressed, detected by magic) from arbitrary
// bytes, delivered in chunks whose size the first input byte picks: samples
// or a ShardError, never a crash, a hang or a partial sample.
#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "atdata/error.hpp"
#include "atdata/io/blocking.hpp"
#include "atdata/io/byte_source.hpp"
#include "atdata/io/shard_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = std::size_t{1} << (data[0] % 14);  // 1 B … 8 KiB
  auto bytes = atdata::SharedBytes::copy_of(std::as_bytes(std::span(data + 1, size - 1)));
  boost::asio::io_context io;
  atdata::ShardReader reader(atdata::make_memory_source(bytes, "fuzz.tar", chunk));
  std::vector<atdata::RawSample> out;
  try {
    while (atdata::run_blocking(io, reader.read(out, 64)) > 0) {
      for (const auto& s : out)
        if (s.members.empty()) __builtin_trap();
      out.clear();
    }
  } catch (const atdata::Error&) {
  }
  return 0;
}
