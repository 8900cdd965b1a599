#pragma once
// zstd dictionaries for the Jetstream tests: trained on events the tests make
// (ZDICT_trainFromBuffer), and messages compressed with one, as a Jetstream
// server with `compress=true` sends them. Header-only: the suites that use it
// link libzstd themselves.

#define ZDICT_STATIC_LINKING_ONLY
#include <zdict.h>
#include <zstd.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace atdata::test {

inline std::vector<std::byte> train_dictionary(const std::vector<std::string>& samples) {
  std::string all;
  std::vector<std::size_t> sizes;
  for (const auto& s : samples) {
    all += s;
    sizes.push_back(s.size());
  }
  std::vector<std::byte> dict(16 * 1024);
  const std::size_t n = ZDICT_trainFromBuffer(dict.data(), dict.size(), all.data(), sizes.data(),
                                              static_cast<unsigned>(sizes.size()));
  if (ZDICT_isError(n)) throw std::runtime_error(std::string("ZDICT: ") + ZDICT_getErrorName(n));
  dict.resize(n);
  return dict;
}

// One zstd frame of `text`, with `dict` when given.
inline std::string compress(std::string_view text, const std::vector<std::byte>* dict) {
  std::string out(ZSTD_compressBound(text.size()), '\0');
  std::size_t n = 0;
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  if (dict) {
    ZSTD_CDict* cd = ZSTD_createCDict(dict->data(), dict->size(), 3);
    n = ZSTD_compress_usingCDict(cctx, out.data(), out.size(), text.data(), text.size(), cd);
    ZSTD_freeCDict(cd);
  } else {
    n = ZSTD_compressCCtx(cctx, out.data(), out.size(), text.data(), text.size(), 3);
  }
  ZSTD_freeCCtx(cctx);
  if (ZSTD_isError(n)) throw std::runtime_error("zstd compress failed");
  out.resize(n);
  return out;
}
inline std::string compress(std::string_view text, const std::vector<std::byte>& dict) {
  return compress(text, &dict);
}

}  // namespace atdata::test
