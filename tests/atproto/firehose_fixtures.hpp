#pragma once
// The captured event-stream frames in tests/data/firehose, shared by the
// DAG-CBOR and CAR suites.

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

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

}  // namespace atdata::test
