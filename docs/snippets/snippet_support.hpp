#pragma once
// Scaffolding shared by the doc snippet programs (docs/snippets/*.cpp): the
// code around the `// [snippet name]` regions that the docs show. A snippet
// run must be able to fail, so every program checks what its snippets did.

#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>

namespace snippet {

inline void check(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error("check failed: " + what);
}

// A required environment variable (the CTest wrappers export them).
inline std::string env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) throw std::runtime_error(std::string("environment variable ") + name + " is not set");
  return v;
}

// A fresh directory, made the working directory while it exists, so that
// snippets can use the relative paths the docs show.
class ScratchDir {
 public:
  ScratchDir() : previous_(std::filesystem::current_path()) {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("atdata-snippet-" + std::to_string(rd()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
    std::filesystem::current_path(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::current_path(previous_, ec);
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path previous_;
  std::filesystem::path path_;
};

// Runs one snippet program; any exception fails it with a message.
template <class F>
int run(const char* name, F&& body) {
  try {
    body();
    std::cout << name << ": ok\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << name << ": " << e.what() << "\n";
    return 1;
  }
}

}  // namespace snippet
