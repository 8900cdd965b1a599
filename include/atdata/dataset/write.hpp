#pragma once
// Writing samples into shards the way Python's `sink.write(sample.as_wds)`
// does: one "<key>.msgpack" member holding the packed map. An empty key means
// a fresh uuid1 key (Python's default `__key__`).

#include <string>
#include <vector>

#include "atdata/core/dynamic_sample.hpp"
#include "atdata/core/keys.hpp"
#include "atdata/core/sample.hpp"
#include "atdata/io/tar_writer.hpp"

namespace atdata {

// Works with TarWriter and ShardWriter. Returns the key used.
template <class Writer, DescribedSample T>
std::string write_sample(Writer& writer, const T& sample, std::string key = {}) {
  if (key.empty()) key = make_uuid1_key();
  thread_local std::vector<std::byte> packed;
  packed.clear();
  pack_into(sample, packed);
  writer.write(key, "msgpack", packed);
  return key;
}

template <class Writer>
std::string write_sample(Writer& writer, const DynamicSample& sample, std::string key = {}) {
  if (key.empty()) key = make_uuid1_key();
  thread_local std::vector<std::byte> packed;
  packed.clear();
  sample.pack_into(packed);
  writer.write(key, "msgpack", packed);
  return key;
}

}  // namespace atdata
