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

}  // namespace atdata::test
