#include "atdata/io/tar_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "atdata/error.hpp"
#include "atdata/io/shard_urls.hpp"

namespace atdata {
namespace {

constexpr std::size_t kBlock = 512;
constexpr std::size_t kRecord = 20 * kBlock;                         // Python tarfile's RECORDSIZE
constexpr std::uint64_t kMaxOctal11 = (std::uint64_t{1} << 33) - 1;  // 8**11 - 1

// Python's itn(): zero-padded octal in digits-1 characters, then NUL.
void put_octal(std::byte* h, std::size_t off, std::size_t digits, std::uint64_t v) {
  for (std::size_t i = digits - 1; i-- > 0;) {
    h[off + i] = static_cast<std::byte>('0' + (v & 7));
    v >>= 3;
  }
  h[off + digits - 1] = std::byte{0};
}

void put_string(std::byte* h, std::size_t off, std::size_t len, std::string_view s) {
  std::memcpy(h + off, s.data(), std::min(len, s.size()));
}

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

std::string pax_record(std::string_view key, std::string_view value) {
  // The length prefix counts itself (Python tarfile's fixed-point loop).
  std::size_t l = key.size() + value.size() + 3, n = 0, p = 0;
  for (;;) {
    n = l + std::to_string(p).size();
    if (n == p) break;
    p = n;
  }
  return std::to_string(p) + " " + std::string(key) + "=" + std::string(value) + "\n";
}

}  // namespace

struct TarWriter::Impl {
  std::string path;
  int fd = -1;
  bool memory = false;
  std::vector<std::byte> mem;
  std::vector<std::byte> buf;  // file write-behind buffer
  std::uint64_t file_offset = 0;
  std::unique_ptr<Compressor> comp;
  TarWriterOptions opt;
  std::uint64_t written = 0;  // uncompressed tar bytes
  bool closed = false;

  ~Impl() {
    if (fd >= 0) ::close(fd);
  }

  static void sink(void* ctx, std::span<const std::byte> s) { static_cast<Impl*>(ctx)->raw_out(s); }

  void flush_buf() {
    std::size_t done = 0;
    while (done < buf.size()) {
      ssize_t r = ::write(fd, buf.data() + done, buf.size() - done);
      if (r < 0) {
        if (errno == EINTR) continue;
        throw ShardError(path, file_offset + done, std::string("write failed: ") + std::strerror(errno));
      }
      done += static_cast<std::size_t>(r);
    }
    file_offset += buf.size();
    buf.clear();
  }
  void raw_out(std::span<const std::byte> s) {
    if (s.empty()) return;
    if (memory) {
      mem.insert(mem.end(), s.begin(), s.end());
      return;
    }
    if (buf.size() + s.size() > buf.capacity()) flush_buf();
    if (s.size() >= buf.capacity()) {
      buf.assign(s.begin(), s.end());  // large payload: one write, no extra buffering
      flush_buf();
      buf.reserve(std::size_t{1} << 20);
      return;
    }
    buf.insert(buf.end(), s.begin(), s.end());
  }
  void out(std::span<const std::byte> s) {
    written += s.size();
    if (comp) {
      comp->write(s);
    } else {
      raw_out(s);
    }
  }
  void zeros(std::size_t n) {
    static const std::byte z[kRecord] = {};
    while (n > 0) {
      std::size_t k = std::min(n, sizeof z);
      out(std::span<const std::byte>(z, k));
      n -= k;
    }
  }

  void header(std::string_view name, std::uint64_t size, char type, std::uint32_t mode, std::int64_t mtime,
              std::string_view uname, std::string_view gname) {
    std::byte h[kBlock] = {};
    put_string(h, 0, 100, name);
    put_octal(h, 100, 8, mode & 07777);
    put_octal(h, 108, 8, 0);
    put_octal(h, 116, 8, 0);
    put_octal(h, 124, 12, size);
    put_octal(h, 136, 12, static_cast<std::uint64_t>(std::max<std::int64_t>(mtime, 0)) & kMaxOctal11);
    std::memset(h + 148, ' ', 8);
    h[156] = static_cast<std::byte>(type);
    put_string(h, 257, 6, std::string_view("ustar\0", 6));
    put_string(h, 263, 2, "00");
    put_string(h, 265, 32, uname);
    put_string(h, 297, 32, gname);
    put_octal(h, 329, 8, 0);
    put_octal(h, 337, 8, 0);
    std::uint32_t sum = 0;
    for (auto b : h) sum += static_cast<unsigned char>(b);
    put_octal(h, 148, 7, sum);  // "%06o\0", the 8th byte stays a space
    out(std::span<const std::byte>(h, kBlock));
  }

  void member(std::string_view name, std::span<const std::byte> data) {
    if (closed) throw InvalidArgument("TarWriter: write after close (" + path + ")");
    std::int64_t mtime = opt.mtime ? *opt.mtime : static_cast<std::int64_t>(std::time(nullptr));
    bool long_name = name.size() > 100 || !is_ascii(name);
    bool big = data.size() > kMaxOctal11;
    if (long_name || big) {
      // As Python's PAX format: an 'x' header carries what ustar cannot.
      std::string records;
      if (long_name) records += pax_record("path", name);
      if (big) records += pax_record("size", std::to_string(data.size()));
      header("././@PaxHeader", records.size(), 'x', 0, 0, "", "");
      out(std::as_bytes(std::span(records.data(), records.size())));
      zeros((kBlock - records.size() % kBlock) % kBlock);
    }
    header(name, big ? 0 : data.size(), '0', opt.mode, mtime, opt.user, opt.group);
    out(data);
    zeros((kBlock - data.size() % kBlock) % kBlock);
  }

  void finish() {
    if (closed) return;
    closed = true;
    zeros(2 * kBlock);
    if (written % kRecord) zeros(kRecord - written % kRecord);
    if (comp) comp->finish();
    if (!memory) {
      flush_buf();
      if (::close(fd) != 0) {
        fd = -1;
        throw ShardError(path, file_offset, std::string("close failed: ") + std::strerror(errno));
      }
      fd = -1;
    }
  }
};

TarWriter::TarWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TarWriter::TarWriter(const std::string& path, TarWriterOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  impl_->opt = std::move(options);
  impl_->fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (impl_->fd < 0) throw ShardError(path, 0, std::string("cannot create: ") + std::strerror(errno));
  impl_->buf.reserve(std::size_t{1} << 20);
  Compression c = impl_->opt.compression.value_or(compression_for_name(path));
  impl_->comp = make_compressor(c, &Impl::sink, impl_.get(), impl_->opt.level);
}

TarWriter TarWriter::in_memory(TarWriterOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->path = "<memory>";
  impl->memory = true;
  impl->opt = std::move(options);
  impl->comp = make_compressor(impl->opt.compression.value_or(Compression::none), &Impl::sink, impl.get(),
                               impl->opt.level);
  return TarWriter(std::move(impl));
}

TarWriter::TarWriter(TarWriter&&) noexcept = default;
TarWriter& TarWriter::operator=(TarWriter&&) noexcept = default;

TarWriter::~TarWriter() {
  if (!impl_) return;
  try {
    impl_->finish();
  } catch (...) {
  }
}

std::uint64_t TarWriter::write(std::string_view key, std::span<const TarMemberData> members) {
  std::string_view last = key.substr(key.rfind('/') == std::string_view::npos ? 0 : key.rfind('/') + 1);
  if (last.empty() || last.find('.') != std::string_view::npos) {
    throw InvalidArgument("sample key '" + std::string(key) +
                          "' must be non-empty and have no '.' in its last path component");
  }
  std::vector<const TarMemberData*> sorted;
  sorted.reserve(members.size());
  for (const auto& m : members) {
    if (m.ext.empty() || m.ext.find('/') != std::string_view::npos) {
      throw InvalidArgument("bad extension '" + std::string(m.ext) + "' for sample '" + std::string(key) +
                            "'");
    }
    sorted.push_back(&m);
  }
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->ext < b->ext; });
  for (std::size_t i = 1; i < sorted.size(); ++i) {
    if (sorted[i]->ext == sorted[i - 1]->ext) {
      throw InvalidArgument("duplicate extension '" + std::string(sorted[i]->ext) + "' for sample '" +
                            std::string(key) + "'");
    }
  }
  std::uint64_t total = 0;
  std::string name;
  for (const auto* m : sorted) {
    name.assign(key);
    name.push_back('.');
    name.append(m->ext);
    impl_->member(name, m->data);
    total += m->data.size();
  }
  return total;
}

void TarWriter::add_file(std::string_view name, std::span<const std::byte> data) {
  if (name.empty()) throw InvalidArgument("tar member name must not be empty");
  impl_->member(name, data);
}

void TarWriter::close() {
  impl_->finish();
}

std::vector<std::byte> TarWriter::take_bytes() {
  if (!impl_->closed) close();
  return std::move(impl_->mem);
}

const std::string& TarWriter::path() const noexcept {
  return impl_->path;
}

ShardWriter::ShardWriter(std::string pattern, ShardWriterOptions options)
    : pattern_(std::move(pattern)), options_(std::move(options)), shard_(options_.start_shard) {
  (void)format_shard_pattern(pattern_, shard_);  // validate early
  if (options_.maxcount == 0) throw InvalidArgument("ShardWriter: maxcount must be > 0");
}

ShardWriter::~ShardWriter() {
  try {
    close();
  } catch (...) {
  }
}

void ShardWriter::next_stream() {
  close();
  std::string name = format_shard_pattern(pattern_, shard_++);
  current_.emplace(name, options_.tar);
  shards_.push_back(std::move(name));
  count_ = size_ = 0;
}

std::uint64_t ShardWriter::write(std::string_view key, std::span<const TarMemberData> members) {
  if (!current_ || count_ >= options_.maxcount || size_ >= options_.maxsize) next_stream();
  std::uint64_t n = current_->write(key, members);
  ++count_;
  ++total_;
  size_ += n;
  return n;
}

void ShardWriter::close() {
  if (!current_) return;
  std::string name = current_->path();
  TarWriter w = std::move(*current_);
  current_.reset();
  w.close();
  if (options_.on_shard_closed) options_.on_shard_closed(name);
}

}  // namespace atdata
