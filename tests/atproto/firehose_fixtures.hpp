#pragma once
// The captured event-stream frames in tests/data/firehose and their
// accounts' keys, shared by the atproto suites.

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "atdata/atproto/car.hpp"
#include "atdata/atproto/dag_cbor.hpp"
#include "atdata/atproto/event_frame.hpp"
#include "atdata/atproto/signing_key.hpp"

namespace atdata::test {

inline std::vector<std::byte> read_bytes(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(f)), {});
  std::vector<std::byte> out(s.size());
  std::memcpy(out.data(), s.data(), s.size());
  return out;
}

inline std::filesystem::path firehose_dir() {
  return std::filesystem::path(ATDATA_TEST_DATA_DIR) / "firehose";
}

// file name -> third INDEX.tsv column (the frame's #type).
inline std::map<std::string, std::string> index_types() {
  std::map<std::string, std::string> out;
  std::ifstream f(firehose_dir() / "INDEX.tsv");
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream ls(line);
    std::string name, size, type;
    std::getline(ls, name, '\t');
    std::getline(ls, size, '\t');
    std::getline(ls, type, '\t');
    out[name] = type;
  }
  return out;
}

// Every captured frame file (*.bin), sorted by name.
inline std::vector<std::filesystem::path> frame_files() {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(firehose_dir()))
    if (e.path().extension() == ".bin") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// DID -> signing key of each captured account (dids.json).
inline std::map<std::string, atproto::PublicKey> fixture_keys() {
  std::ifstream f(firehose_dir() / "dids.json");
  const auto dids = boost::json::parse(std::string((std::istreambuf_iterator<char>(f)), {}));
  std::map<std::string, atproto::PublicKey> out;
  for (const auto& [did, account] : dids.as_object())
    out.emplace(std::string(did), atproto::PublicKey::from_did_document(account.at("didDoc")));
  return out;
}

// The frame with one body field replaced (or removed when `value` is null
// and `remove` is set).
inline std::vector<std::byte> with_field(const std::vector<std::byte>& frame, std::string_view key,
                                         const atproto::DagCborValue& value, bool remove = false) {
  const atproto::EventFrame f = atproto::decode_event_frame(frame);
  std::vector<std::string_view> keys;
  std::vector<atproto::DagCborValue> values;
  bool found = false;
  for (std::size_t i = 0; i < f.body.keys().size(); ++i) {
    if (f.body.keys()[i] == key) {
      found = true;
      if (remove) continue;
      keys.push_back(key);
      values.push_back(value);
    } else {
      keys.push_back(f.body.keys()[i]);
      values.push_back(f.body.items()[i]);
    }
  }
  if (!found && !remove) {
    keys.push_back(key);
    values.push_back(value);
  }
  auto out = atproto::dag_cbor_encode(f.header);
  atproto::dag_cbor_encode(atproto::DagCborValue::make_map(keys, values), out);
  return out;
}

// A CAR of `blocks` under `root`, the way a PDS writes one.
inline std::vector<std::byte> car_of(std::span<const std::byte> root,
                                     const std::vector<atproto::CarBlock>& blocks) {
  std::vector<std::byte> out;
  const auto varint = [&](std::uint64_t v) {
    do {
      auto b = static_cast<std::uint8_t>(v & 0x7f);
      v >>= 7;
      if (v) b |= 0x80;
      out.push_back(static_cast<std::byte>(b));
    } while (v);
  };
  const auto header = atproto::dag_cbor_encode(atproto::DagCborValue::make_map(
      {"roots", "version"}, {atproto::DagCborValue::make_list({atproto::DagCborValue::make_link(root)}),
                             atproto::DagCborValue::make_int(1)}));
  varint(header.size());
  out.insert(out.end(), header.begin(), header.end());
  for (const auto& b : blocks) {
    varint(b.cid.size() + b.data.size());
    out.insert(out.end(), b.cid.begin(), b.cid.end());
    out.insert(out.end(), b.data.begin(), b.data.end());
  }
  return out;
}

}  // namespace atdata::test
