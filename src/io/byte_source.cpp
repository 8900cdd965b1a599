#include "atdata/io/byte_source.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "atdata/error.hpp"

namespace atdata {
namespace {

class MemorySource final : public ByteSource {
 public:
  MemorySource(SharedBytes bytes, std::string url, std::size_t chunk)
      : bytes_(std::move(bytes)), url_(std::move(url)), chunk_(chunk == 0 ? bytes_.size() : chunk) {}

  asio::awaitable<SharedBytes> next_chunk() override {
    if (pos_ >= bytes_.size()) co_return SharedBytes{};
    std::size_t n = std::min(chunk_, bytes_.size() - pos_);
    SharedBytes out = bytes_.slice(pos_, n);
    pos_ += n;
    co_return out;
  }
  const std::string& url() const noexcept override { return url_; }
  std::optional<std::uint64_t> size_hint() const noexcept override { return bytes_.size(); }

 private:
  SharedBytes bytes_;
  std::string url_;
  std::size_t chunk_;
  std::size_t pos_ = 0;
};

std::string errno_text(int err) {
  return std::string(std::strerror(err));
}

// Owns one mapping; every chunk handed out shares it, so the mapping lives
// until the last member view is dropped.
struct Mapping {
  void* addr = nullptr;
  std::size_t size = 0;
  ~Mapping() {
    if (addr) ::munmap(addr, size);
  }
};

class MmapFileSource final : public ByteSource {
 public:
  MmapFileSource(std::shared_ptr<Mapping> map, std::string url, std::size_t chunk)
      : map_(std::move(map)), url_(std::move(url)), chunk_(std::max<std::size_t>(chunk, 4096)) {}

  asio::awaitable<SharedBytes> next_chunk() override {
    if (pos_ >= map_->size) co_return SharedBytes{};
    std::size_t n = std::min(chunk_, map_->size - pos_);
    auto* base = static_cast<const std::byte*>(map_->addr);
#ifdef MADV_POPULATE_READ
    // Pre-faulting the page tables in one call is several times faster than
    // one page fault per 4 KiB when the file is in the page cache. Failure
    // (old kernel) just means faulting lazily.
    (void)::madvise(const_cast<std::byte*>(base) + pos_, n, MADV_POPULATE_READ);
#endif
    SharedBytes out(map_, std::span<const std::byte>(base + pos_, n));
    pos_ += n;
    co_return out;
  }
  const std::string& url() const noexcept override {
    return url_;
  }
  std::optional<std::uint64_t> size_hint() const noexcept override {
    return map_->size;
  }

 private:
  std::shared_ptr<Mapping> map_;
  std::string url_;
  std::size_t chunk_;
  std::size_t pos_ = 0;
};

class ReadFileSource final : public ByteSource {
 public:
  ReadFileSource(int fd, bool owns, std::string url, std::size_t chunk, std::optional<std::uint64_t> size)
      : fd_(fd), owns_(owns), url_(std::move(url)), chunk_(std::max<std::size_t>(chunk, 4096)), size_(size) {}
  ~ReadFileSource() override {
    if (owns_ && fd_ >= 0) ::close(fd_);
  }

  asio::awaitable<SharedBytes> next_chunk() override {
    if (eof_) co_return SharedBytes{};
    std::vector<std::byte> buf(chunk_);
    std::size_t filled = 0;
    // Fill the whole buffer (pipes return short reads) so chunks stay large.
    while (filled < buf.size()) {
      ssize_t r = ::read(fd_, buf.data() + filled, buf.size() - filled);
      if (r < 0) {
        if (errno == EINTR) continue;
        throw ShardError(url_, offset_ + filled, "read failed: " + errno_text(errno));
      }
      if (r == 0) {
        eof_ = true;
        break;
      }
      filled += static_cast<std::size_t>(r);
    }
    offset_ += filled;
    if (filled == 0) co_return SharedBytes{};
    buf.resize(filled);
    co_return SharedBytes::adopt(std::move(buf));
  }
  const std::string& url() const noexcept override { return url_; }
  std::optional<std::uint64_t> size_hint() const noexcept override { return size_; }

 private:
  int fd_;
  bool owns_;
  std::string url_;
  std::size_t chunk_;
  std::optional<std::uint64_t> size_;
  std::uint64_t offset_ = 0;
  bool eof_ = false;
};

}  // namespace

ByteSourcePtr make_memory_source(SharedBytes bytes, std::string url, std::size_t chunk_size) {
  return std::make_unique<MemorySource>(std::move(bytes), std::move(url), chunk_size);
}

ByteSourcePtr open_file_source(const std::string& path, std::string url, FileSourceOptions options) {
  if (url.empty()) url = path;
  if (path == "-") {
    return std::make_unique<ReadFileSource>(STDIN_FILENO, false, std::move(url), options.chunk_size,
                                            std::nullopt);
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw ShardError(url, 0, "cannot open: " + errno_text(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    throw ShardError(url, 0, "cannot stat: " + errno_text(err));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw ShardError(url, 0, "is a directory");
  }
  if (S_ISREG(st.st_mode)) {
    auto size = static_cast<std::size_t>(st.st_size);
    if (size == 0) {
      ::close(fd);
      return make_memory_source(SharedBytes{}, std::move(url));
    }
    if (options.use_mmap) {
      void* addr = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
      if (addr != MAP_FAILED) {
        ::close(fd);  // the mapping keeps the file referenced
        (void)::madvise(addr, size, MADV_SEQUENTIAL);
        auto map = std::make_shared<Mapping>();
        map->addr = addr;
        map->size = size;
        return std::make_unique<MmapFileSource>(std::move(map), std::move(url), options.chunk_size);
      }
      // Fall through to read(): some file systems cannot map.
    }
    (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return std::make_unique<ReadFileSource>(fd, true, std::move(url), options.chunk_size,
                                            static_cast<std::uint64_t>(st.st_size));
  }
  return std::make_unique<ReadFileSource>(fd, true, std::move(url), options.chunk_size, std::nullopt);
}

asio::awaitable<SharedBytes> read_all(ByteSource& source, std::uint64_t max_bytes) {
  SharedBytes first = co_await source.next_chunk();
  if (first.empty()) co_return first;
  SharedBytes second = co_await source.next_chunk();
  if (second.empty()) {
    if (first.size() > max_bytes) throw ShardError(source.url(), max_bytes, "stream exceeds size limit");
    co_return first;
  }
  std::vector<std::byte> all;
  if (auto hint = source.size_hint(); hint && *hint <= max_bytes)
    all.reserve(static_cast<std::size_t>(*hint));
  auto append = [&](const SharedBytes& c) {
    if (c.size() > max_bytes - all.size())
      throw ShardError(source.url(), max_bytes, "stream exceeds size limit");
    all.insert(all.end(), c.span().begin(), c.span().end());
  };
  append(first);
  append(second);
  for (;;) {
    SharedBytes c = co_await source.next_chunk();
    if (c.empty()) break;
    append(c);
  }
  co_return SharedBytes::adopt(std::move(all));
}

}  // namespace atdata
