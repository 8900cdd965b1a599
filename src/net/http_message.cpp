#include "atdata/net/http_message.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "atdata/error.hpp"

namespace atdata::net {

namespace {
bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}
}  // namespace

void HttpHeaders::set(std::string name, std::string value) {
  erase(name);
  add(std::move(name), std::move(value));
}

void HttpHeaders::erase(std::string_view name) {
  std::erase_if(fields_, [&](const Field& f) { return iequals(f.first, name); });
}

std::optional<std::string_view> HttpHeaders::get(std::string_view name) const {
  for (const auto& f : fields_) {
    if (iequals(f.first, name)) return std::string_view(f.second);
  }
  return std::nullopt;
}

std::uint64_t RequestBody::size() const noexcept {
  struct V {
    std::uint64_t operator()(std::monostate) const { return 0; }
    std::uint64_t operator()(const std::string& s) const { return s.size(); }
    std::uint64_t operator()(const SharedBytes& b) const { return b.size(); }
    std::uint64_t operator()(const Stream& s) const { return s.length; }
  };
  return std::visit(V{}, v_);
}

namespace {
// Owns the descriptor so a reader abandoned mid-body does not leak it.
struct FileHandle {
  int fd = -1;
  ~FileHandle() {
    if (fd >= 0) ::close(fd);
  }
};
}  // namespace

RequestBody RequestBody::from_file(const std::string& path, std::size_t chunk_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    throw Error("cannot stat request body file '" + path + "': " + std::strerror(errno));
  }
  if (chunk_bytes == 0) chunk_bytes = 1024 * 1024;
  const auto length = static_cast<std::uint64_t>(st.st_size);
  return from_stream(length, [path, chunk_bytes]() -> BodyChunkReader {
    auto fh = std::make_shared<FileHandle>();
    fh->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fh->fd < 0) throw Error("cannot open request body file '" + path + "': " + std::strerror(errno));
    return [fh, path, chunk_bytes]() -> boost::asio::awaitable<SharedBytes> {
      std::shared_ptr<std::byte[]> buf(new std::byte[chunk_bytes]);
      ssize_t n;
      do {
        n = ::read(fh->fd, buf.get(), chunk_bytes);
      } while (n < 0 && errno == EINTR);
      if (n < 0) throw Error("reading request body file '" + path + "': " + std::strerror(errno));
      std::span<const std::byte> s(buf.get(), static_cast<std::size_t>(n));
      co_return SharedBytes(std::shared_ptr<const void>(buf, buf.get()), s);
    };
  });
}

std::string body_snippet(std::string_view body, std::size_t max) {
  std::string out;
  const std::size_t n = std::min(body.size(), max);
  out.reserve(n + 3);
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(body[i]);
    out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' '
                                                      : (c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?'));
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (body.size() > max) out += "...";
  return out;
}

void HttpResponse::throw_if_error() const {
  if (!ok()) throw HttpError(status, url, body_snippet(body));
}

}  // namespace atdata::net
