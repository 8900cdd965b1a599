#include "atdata/core/compact_array.hpp"

#include <cstring>
#include <string>

#include "atdata/error.hpp"

namespace atdata::compact {

namespace {
[[noreturn]] void fail(const std::string& what, std::uint64_t offset) {
  throw DecodeError("compact array: " + what, offset);
}
}  // namespace

NDArray decode(SharedBytes bytes) {
  const std::size_t size = bytes.size();
  const std::byte* b = bytes.data();
  if (size < 1) fail("empty buffer", 0);
  const std::size_t len = static_cast<std::size_t>(b[0]);
  if (len == 0) fail("dtype string length is 0", 0);
  if (size < 2 + len)
    fail("truncated: dtype string of " + std::to_string(len) + " bytes and ndim do not fit", 0);
  Dtype dtype;
  try {
    dtype = Dtype::parse(std::string_view(reinterpret_cast<const char*>(b + 1), len));
  } catch (const DecodeError& e) {
    fail(e.what(), 1);
  }
  const std::size_t ndim = static_cast<std::size_t>(b[1 + len]);
  if (ndim > NDArray::kMaxRank) fail("ndim " + std::to_string(ndim) + " exceeds 64", 1 + len);
  const std::size_t shape_off = 2 + len;
  if ((size - shape_off) / 8 < ndim) fail("truncated: shape of " + std::to_string(ndim) + " dims", shape_off);
  std::int64_t dims[NDArray::kMaxRank];
  for (std::size_t i = 0; i < ndim; ++i) {
    std::uint64_t v = 0;
    for (int k = 7; k >= 0; --k) v = v << 8 | static_cast<std::uint64_t>(b[shape_off + 8 * i + k]);
    dims[i] = static_cast<std::int64_t>(v);
    if (dims[i] < 0) fail("negative dimension " + std::to_string(dims[i]), shape_off + 8 * i);
  }
  const std::span<const std::int64_t> shape(dims, ndim);
  std::size_t count = 0, nbytes = 0;
  if (!checked_shape_size(shape, dtype.itemsize(), count, nbytes)) {
    fail("shape of " + dtype.str() + " has a byte size that overflows", shape_off);
  }
  const std::size_t data_off = shape_off + 8 * ndim;
  if (size - data_off != nbytes) {
    fail(
        "data is " + std::to_string(size - data_off) + " bytes but the shape needs " + std::to_string(nbytes),
        data_off);
  }
  return NDArray::view(dtype, shape, bytes.slice(data_off, nbytes));
}

std::size_t encoded_size(const NDArray& array) {
  return 1 + array.dtype().str().size() + 1 + 8 * array.ndim() + array.nbytes();
}

void encode_into(const NDArray& array, std::vector<std::byte>& out) {
  const std::string d = array.dtype().str();  // <= 12 chars: small-string storage
  out.reserve(out.size() + 2 + d.size() + 8 * array.ndim() + array.nbytes());
  out.push_back(static_cast<std::byte>(d.size()));
  const auto* dp = reinterpret_cast<const std::byte*>(d.data());
  out.insert(out.end(), dp, dp + d.size());
  out.push_back(static_cast<std::byte>(array.ndim()));
  for (std::int64_t dim : array.shape()) {
    const auto v = static_cast<std::uint64_t>(dim);
    for (int k = 0; k < 8; ++k) out.push_back(static_cast<std::byte>((v >> (8 * k)) & 0xff));
  }
  const auto data = array.bytes();
  out.insert(out.end(), data.begin(), data.end());
}

std::vector<std::byte> encode(const NDArray& array) {
  std::vector<std::byte> out;
  encode_into(array, out);
  return out;
}

}  // namespace atdata::compact
