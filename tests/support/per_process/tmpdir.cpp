// Linked into every test executable. ctest runs each test case as its own
// process, in parallel; cases of one suite share fixed file names under
// ::testing::TempDir(), so give every process a private TEST_TMPDIR (which
// gtest's TempDir() honours) and remove it when the process exits.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

struct PerProcessTmpDir {
  std::filesystem::path dir;
  PerProcessTmpDir() {
    std::error_code ec;
    const char* base = std::getenv("TMPDIR");
    dir =
        std::filesystem::path(base && *base ? base : "/tmp") / ("atdata-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir, ec);
    if (!ec) ::setenv("TEST_TMPDIR", dir.c_str(), 1);
  }
  ~PerProcessTmpDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

const PerProcessTmpDir tmpdir;

}  // namespace
