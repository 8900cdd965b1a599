#include "atdata/dataset/shard_cache.hpp"

// GCC 12 reports a false -Wmismatched-new-delete on Asio coroutine frames
// (awaitable_frame_base has matching class-level new/delete; GCC PR 109224).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

#include <boost/url/parse.hpp>

#include "atdata/error.hpp"

namespace atdata {

namespace fs = std::filesystem;

namespace {

// On-disk layout of one entry (all in `dir`, nothing else is touched):
//   <key>.meta           the sidecar; its atomic rename is the commit
//   <key>.<uniq>.shard   the bytes, named by the sidecar
//   .tmp.<key>.<uniq>.*  a download or sidecar being written
// <key> is the sha256 hex of the URL. Data files have unique names and are
// never rewritten in place, so a sidecar names either a complete file or
// none: two processes committing the same URL never mix their bytes.
constexpr std::string_view kMagic = "atdata-shard-cache 1";
constexpr std::string_view kGetBlobPath = "/xrpc/com.atproto.sync.getBlob";
constexpr std::size_t kKeyLen = 64;
constexpr std::size_t kUniqLen = 16;
// Files of another process's download or commit may look abandoned for a
// moment; only ones older than this are removed.
constexpr auto kOrphanAge = std::chrono::minutes(10);
constexpr auto kTempAge = std::chrono::hours(1);

using Digest = std::array<unsigned char, 32>;

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) {
      EVP_MD_CTX_free(ctx_);
      throw Error("shard cache: OpenSSL SHA-256 unavailable");
    }
  }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, std::size_t n) {
    if (n > 0) EVP_DigestUpdate(ctx_, data, n);
  }
  Digest final() {
    Digest d{};
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, d.data(), &len);
    return d;
  }

 private:
  EVP_MD_CTX* ctx_;
};

std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    s += kHex[p[i] >> 4];
    s += kHex[p[i] & 15];
  }
  return s;
}

std::string sha256_hex(std::string_view s) {
  Sha256 h;
  h.update(s.data(), s.size());
  Digest d = h.final();
  return hex(d.data(), d.size());
}

// The CIDv1 (raw codec, sha2-256) of content with this digest, in its
// multibase base32 form: "b" + base32lower(0x01 0x55 0x12 0x20 ‖ digest).
std::string raw_sha256_cid(const Digest& digest) {
  std::vector<unsigned char> bytes = {0x01, 0x55, 0x12, 0x20};
  bytes.insert(bytes.end(), digest.begin(), digest.end());
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  std::string out = "b";
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 31];
  return out;
}

// The cid parameter of an ATProto getBlob URL; nullopt for other URLs.
std::optional<std::string> blob_cid(const std::string& url) {
  auto u = boost::urls::parse_uri(url);
  if (!u || !u->path().ends_with(kGetBlobPath)) return std::nullopt;
  auto params = u->params();
  auto c = params.find("cid");
  if (c == params.end()) return std::nullopt;
  return std::string((*c).value);
}

bool is_raw_sha256_cid(std::string_view cid) {
  // "b" + base32 of 36 bytes = 1 + 58 characters; the first 7 are fixed by the prefix bytes.
  if (cid.size() != 59 || !cid.starts_with("bafkrei")) return false;
  return std::all_of(cid.begin(), cid.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'); });
}

// Remote URLs only: copying a local file into the cache gains nothing.
bool cacheable_url(const std::string& url) {
  if (url.find("://") == std::string::npos) return false;
  if (url.find_first_of("\r\n") != std::string::npos) return false;  // would break the sidecar's lines
  std::string scheme = url.substr(0, url.find(':'));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return scheme != "file";
}

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// "<key>.<uniq>.shard" of this key: a sidecar from disk must never make us
// open or delete any other file.
bool valid_data_name(std::string_view key, std::string_view name) {
  if (name.size() != kKeyLen + 1 + kUniqLen + 6) return false;
  return name.substr(0, kKeyLen) == key && name[kKeyLen] == '.' &&
         is_hex(name.substr(kKeyLen + 1, kUniqLen)) && name.substr(kKeyLen + 1 + kUniqLen) == ".shard";
}

std::string unique_suffix() {
  std::array<unsigned char, kUniqLen / 2> r{};
  if (RAND_bytes(r.data(), static_cast<int>(r.size())) != 1) {
    // Unique enough within this process; O_EXCL catches the rest.
    static std::atomic<std::uint64_t> counter{0};
    std::uint64_t v = (static_cast<std::uint64_t>(::getpid()) << 32) ^ ++counter ^
                      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    std::memcpy(r.data(), &v, r.size());
  }
  return hex(r.data(), r.size());
}

struct Meta {
  std::string url;
  std::uint64_t size = 0;
  std::string data;
  std::string validator;
  std::string cid;
};

std::string format_meta(const Meta& m) {
  std::string s =
      std::string(kMagic) + "\nurl " + m.url + "\nsize " + std::to_string(m.size) + "\ndata " + m.data + "\n";
  if (!m.validator.empty() && m.validator.find_first_of("\r\n") == std::string::npos)
    s += "validator " + m.validator + "\n";
  if (!m.cid.empty()) s += "cid " + m.cid + "\n";
  return s;
}

std::optional<Meta> parse_meta(std::string_view text) {
  Meta m;
  bool first = true, have_url = false, have_size = false, have_data = false;
  while (!text.empty()) {
    auto nl = text.find('\n');
    if (nl == std::string_view::npos) return std::nullopt;  // a complete sidecar ends with a newline
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    if (first) {
      if (line != kMagic) return std::nullopt;
      first = false;
      continue;
    }
    auto sp = line.find(' ');
    if (sp == std::string_view::npos) return std::nullopt;
    std::string_view k = line.substr(0, sp), v = line.substr(sp + 1);
    if (k == "url") {
      m.url = v;
      have_url = true;
    } else if (k == "size") {
      if (v.empty() || v.size() > 19 ||
          !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
      m.size = std::stoull(std::string(v));
      have_size = true;
    } else if (k == "data") {
      m.data = v;
      have_data = true;
    } else if (k == "validator") {
      m.validator = v;
    } else if (k == "cid") {
      m.cid = v;
    }  // unknown keys: written by a newer version, ignored
  }
  if (first || !have_url || !have_size || !have_data) return std::nullopt;
  return m;
}

// A sidecar is a few hundred bytes; anything much larger is not one.
std::optional<std::string> read_small_file(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || out.size() + static_cast<std::size_t>(n) > 64 * 1024) {
      ::close(fd);
      if (n == 0) return out;
      return std::nullopt;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
}

bool write_all(int fd, const void* data, std::size_t n) {
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

std::optional<Digest> hash_file(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  Sha256 h;
  std::vector<char> buf(std::size_t{1} << 20);
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    h.update(buf.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  return h.final();
}

std::int64_t mtime_ns(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

struct timespec to_timespec(std::int64_t ns) {
  struct timespec ts {};
  ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
  ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  return ts;
}

void unlink_quietly(const fs::path& p) {
  (void)::unlink(p.c_str());
}

}  // namespace

struct ShardCache::State {
  struct Entry {
    std::string data;  // file name in dir
    std::uint64_t size = 0;
    std::int64_t last_use = 0;  // ns since the epoch, mirrored in the data file's mtime
    int readers = 0;            // sources of this object reading it now
  };

  ShardCacheOptions options;
  fs::path dir;
  mutable std::mutex mu;
  std::map<std::string, Entry> entries;  // by key
  Stats counters;                        // bytes_cached / entries are derived from `entries`
  std::int64_t last_stamp = 0;

  fs::path meta_path(const std::string& key) const { return dir / (key + ".meta"); }

  // The time of a use, strictly increasing within the process: the file
  // system's coarse clock would give entries used in quick succession the
  // same mtime and lose their order.
  std::int64_t stamp_locked() {
    auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    last_stamp = std::max<std::int64_t>(now, last_stamp + 1);
    return last_stamp;
  }

  static void set_mtime(const fs::path& p, std::int64_t ns) {
    struct timespec times[2] = {{0, UTIME_OMIT}, to_timespec(ns)};
    (void)::utimensat(AT_FDCWD, p.c_str(), times, 0);
  }

  // Rebuilds the index from the directory (other processes add and evict
  // entries too), keeping this process's readers and newer uses. With
  // `cleanup`, removes broken sidecars, orphaned data files and stale
  // temporaries.
  void scan_locked(bool cleanup) {
    std::map<std::string, Entry> found;
    std::vector<std::pair<std::string, std::int64_t>> data_files;  // name, mtime
    const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      struct stat st {};
      if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      if (name.starts_with(".tmp.")) {
        if (cleanup && now_ns - mtime_ns(st) > std::chrono::nanoseconds(kTempAge).count())
          unlink_quietly(it->path());
        continue;
      }
      if (name.size() == kKeyLen + 5 && name.ends_with(".meta") && is_hex(name.substr(0, kKeyLen))) {
        const std::string key = name.substr(0, kKeyLen);
        auto text = read_small_file(it->path());
        if (!text) continue;  // vanished meanwhile
        auto meta = parse_meta(*text);
        struct stat dst {};
        const bool ok = meta && valid_data_name(key, meta->data) && sha256_hex(meta->url) == key &&
                        ::stat((dir / meta->data).c_str(), &dst) == 0 && S_ISREG(dst.st_mode) &&
                        static_cast<std::uint64_t>(dst.st_size) == meta->size;
        if (!ok) {
          if (cleanup) {
            unlink_quietly(it->path());
            if (meta && valid_data_name(key, meta->data)) unlink_quietly(dir / meta->data);
          }
          continue;
        }
        Entry e;
        e.data = meta->data;
        e.size = meta->size;
        e.last_use = mtime_ns(dst);
        found[key] = std::move(e);
        continue;
      }
      if (name.size() == kKeyLen + 1 + kUniqLen + 6 && valid_data_name(name.substr(0, kKeyLen), name))
        data_files.emplace_back(name, mtime_ns(st));
    }
    if (cleanup) {
      for (const auto& [name, mtime] : data_files) {
        auto e = found.find(name.substr(0, kKeyLen));
        const bool referenced = e != found.end() && e->second.data == name;
        if (!referenced && now_ns - mtime > std::chrono::nanoseconds(kOrphanAge).count())
          unlink_quietly(dir / name);
      }
    }
    for (auto& [key, e] : found) {
      auto old = entries.find(key);
      if (old != entries.end() && old->second.data == e.data) {
        e.readers = old->second.readers;
        e.last_use = std::max(e.last_use, old->second.last_use);
      }
    }
    entries = std::move(found);
  }

  // Unlinks the sidecar first: from then on no process finds the entry;
  // readers that already mapped the data file keep their pages.
  void erase_locked(std::map<std::string, Entry>::iterator it) {
    unlink_quietly(meta_path(it->first));
    unlink_quietly(dir / it->second.data);
    entries.erase(it);
  }

  void evict_locked() {
    if (options.max_bytes == 0) return;
    std::uint64_t total = 0;
    for (const auto& [k, e] : entries) total += e.size;
    while (total > options.max_bytes) {
      auto victim = entries.end();
      for (auto it = entries.begin(); it != entries.end(); ++it) {
        if (it->second.readers > 0) continue;
        if (victim == entries.end() || it->second.last_use < victim->second.last_use) victim = it;
      }
      if (victim == entries.end()) break;  // everything left is being read; over the cap until released
      total -= victim->second.size;
      erase_locked(victim);
      ++counters.evictions;
    }
  }

  void release(const std::string& key, const std::string& data) {
    std::lock_guard lock(mu);
    auto it = entries.find(key);
    if (it != entries.end() && it->second.data == data && it->second.readers > 0) --it->second.readers;
  }

  // Publishes a complete data file (already a temporary in dir) as the entry of `key`.
  bool commit(const std::string& key, const fs::path& tmp_data, Meta meta) {
    const std::string uniq = tmp_data.filename().string().substr(5 + kKeyLen + 1, kUniqLen);
    meta.data = key + "." + uniq + ".shard";
    const fs::path data_path = dir / meta.data;
    const fs::path tmp_meta = dir / (".tmp." + key + "." + uniq + ".meta");
    const std::string text = format_meta(meta);
    int fd = ::open(tmp_meta.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return false;
    const bool written = write_all(fd, text.data(), text.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!written) {
      unlink_quietly(tmp_meta);
      return false;
    }
    std::lock_guard lock(mu);
    if (::rename(tmp_data.c_str(), data_path.c_str()) != 0) {
      unlink_quietly(tmp_meta);
      return false;
    }
    // The entry this one replaces, perhaps written by another process.
    std::string previous;
    if (auto old = read_small_file(meta_path(key))) {
      if (auto m = parse_meta(*old); m && valid_data_name(key, m->data) && m->data != meta.data)
        previous = m->data;
    }
    if (::rename(tmp_meta.c_str(), meta_path(key).c_str()) != 0) {
      unlink_quietly(tmp_meta);
      unlink_quietly(data_path);
      return false;
    }
    if (!previous.empty()) unlink_quietly(dir / previous);
    Entry e;
    e.data = meta.data;
    e.size = meta.size;
    e.last_use = stamp_locked();
    set_mtime(data_path, e.last_use);
    auto old = entries.find(key);
    if (old != entries.end() && old->second.data != e.data) unlink_quietly(dir / old->second.data);
    entries[key] = std::move(e);
    counters.bytes_written += meta.size;
    if (options.max_bytes > 0) {
      scan_locked(false);
      evict_locked();
    }
    return true;
  }

  // Drops the entry of `key` if it is still the one backed by `data`.
  void discard(const std::string& key, const std::string& data) {
    std::lock_guard lock(mu);
    auto it = entries.find(key);
    if (it != entries.end() && it->second.data == data) {
      erase_locked(it);
    } else if (auto text = read_small_file(meta_path(key))) {
      if (auto m = parse_meta(*text); m && m->data == data) unlink_quietly(meta_path(key));
      unlink_quietly(dir / data);
    }
  }
};

namespace {

// A cached copy; keeps its entry from being evicted by this process while read.
class CachedSource final : public ByteSource {
 public:
  CachedSource(std::shared_ptr<ShardCache::State> state, std::string key, std::string data,
               ByteSourcePtr file, std::string validator)
      : state_(std::move(state)),
        key_(std::move(key)),
        data_(std::move(data)),
        file_(std::move(file)),
        validator_(std::move(validator)) {}
  ~CachedSource() override { state_->release(key_, data_); }

  asio::awaitable<SharedBytes> next_chunk() override { return file_->next_chunk(); }
  const std::string& url() const noexcept override { return file_->url(); }
  std::optional<std::uint64_t> size_hint() const noexcept override { return file_->size_hint(); }
  std::optional<std::string> validator() const noexcept override {
    if (validator_.empty()) return std::nullopt;
    return validator_;
  }

 private:
  std::shared_ptr<ShardCache::State> state_;
  std::string key_, data_;
  ByteSourcePtr file_;
  std::string validator_;
};

// The origin's stream, written chunk by chunk to a temporary file that
// becomes the entry once the stream is complete.
class TeeSource final : public ByteSource {
 public:
  TeeSource(std::shared_ptr<ShardCache::State> state, std::string key, std::string url,
            std::optional<std::string> cid, ByteSourcePtr origin)
      : state_(std::move(state)),
        key_(std::move(key)),
        url_(std::move(url)),
        cid_(std::move(cid)),
        origin_(std::move(origin)) {
    tmp_ = state_->dir / (".tmp." + key_ + "." + unique_suffix() + ".shard");
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      give_up();
    } else if (cid_) {
      hash_.emplace();
    }
  }
  ~TeeSource() override { drop_temp(); }

  asio::awaitable<SharedBytes> next_chunk() override {
    SharedBytes chunk;
    try {
      chunk = co_await origin_->next_chunk();
    } catch (...) {
      drop_temp();
      // An origin failing after its announced size: do not trust what it sent.
      if (committed_) state_->discard(key_, committed_data_);
      committed_ = false;
      throw;
    }
    if (chunk.empty()) {
      if (writing()) finish();
      co_return chunk;
    }
    if (committed_) {
      // More bytes than the origin announced: the entry holds only a prefix.
      state_->discard(key_, committed_data_);
      committed_ = false;
      give_up();
    } else if (writing()) {
      if (!write_all(fd_, chunk.data(), chunk.size())) {
        give_up();
      } else {
        written_ += chunk.size();
        if (hash_) hash_->update(chunk.data(), chunk.size());
        if (auto size = origin_->size_hint(); size && written_ == *size) finish();
      }
    }
    co_return chunk;
  }
  const std::string& url() const noexcept override { return origin_->url(); }
  std::optional<std::uint64_t> size_hint() const noexcept override { return origin_->size_hint(); }
  int resumes() const noexcept override { return origin_->resumes(); }
  std::optional<std::string> validator() const noexcept override { return origin_->validator(); }

 private:
  bool writing() const noexcept { return fd_ >= 0 && !gave_up_; }

  void drop_temp() noexcept {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
      unlink_quietly(tmp_);
    }
  }

  void give_up() {
    if (gave_up_) return;
    gave_up_ = true;
    drop_temp();
    std::lock_guard lock(state_->mu);
    ++state_->counters.write_errors;
  }

  void finish() {
    // Content that does not hash to the URL's CID is never stored, whatever
    // the origin checked.
    if (hash_ && raw_sha256_cid(hash_->final()) != *cid_) {
      drop_temp();
      gave_up_ = true;
      return;
    }
    if (::fsync(fd_) != 0) return give_up();
    ::close(fd_);
    fd_ = -1;
    Meta meta;
    meta.url = url_;
    meta.size = written_;
    meta.validator = origin_->validator().value_or("");
    if (cid_) meta.cid = *cid_;
    if (!state_->commit(key_, tmp_, meta)) {
      unlink_quietly(tmp_);
      gave_up_ = true;
      std::lock_guard lock(state_->mu);
      ++state_->counters.write_errors;
      return;
    }
    committed_ = true;
    committed_data_ = key_ + "." + tmp_.filename().string().substr(5 + kKeyLen + 1, kUniqLen) + ".shard";
  }

  std::shared_ptr<ShardCache::State> state_;
  std::string key_, url_;
  std::optional<std::string> cid_;
  ByteSourcePtr origin_;
  fs::path tmp_;
  int fd_ = -1;
  bool gave_up_ = false;
  bool committed_ = false;
  std::string committed_data_;
  std::uint64_t written_ = 0;
  std::optional<Sha256> hash_;
};

}  // namespace

ShardCache::ShardCache(ShardCacheOptions options) : state_(std::make_shared<State>()) {
  if (options.dir.empty()) throw InvalidArgument("ShardCacheOptions::dir must not be empty");
  state_->dir = fs::path(options.dir);
  state_->options = std::move(options);
  std::error_code ec;
  fs::create_directories(state_->dir, ec);
  if (ec || !fs::is_directory(state_->dir, ec))
    throw Error("shard cache: cannot create directory '" + state_->options.dir + "'" +
                (ec ? ": " + ec.message() : std::string(": not a directory")));
  std::lock_guard lock(state_->mu);
  state_->scan_locked(true);
  state_->evict_locked();
}

ShardCache::~ShardCache() = default;

const ShardCacheOptions& ShardCache::options() const noexcept {
  return state_->options;
}

ByteSourcePtr ShardCache::open(const std::string& url, const std::function<ByteSourcePtr()>& open_origin) {
  if (!cacheable_url(url)) return open_origin();
  auto cid = blob_cid(url);
  // A CID of another form cannot be checked here, so such blobs are not cached.
  if (cid && !is_raw_sha256_cid(*cid)) return open_origin();
  State& st = *state_;
  const std::string key = sha256_hex(url);
  const fs::path meta_path = st.meta_path(key);

  if (auto text = read_small_file(meta_path)) {
    auto meta = parse_meta(*text);
    const bool named = meta && valid_data_name(key, meta->data);
    ByteSourcePtr file;
    if (named && meta->url == url && (!cid || meta->cid == *cid)) {
      const fs::path data_path = st.dir / meta->data;
      struct stat sb {};
      bool ok = ::stat(data_path.c_str(), &sb) == 0 && S_ISREG(sb.st_mode) &&
                static_cast<std::uint64_t>(sb.st_size) == meta->size;
      if (ok && cid) {
        auto digest = hash_file(data_path);
        ok = digest && raw_sha256_cid(*digest) == *cid;
      }
      if (ok) {
        try {
          file = open_file_source(data_path.string(), url);
          ok = file->size_hint().value_or(meta->size + 1) == meta->size;
        } catch (const Error&) {
          ok = false;  // evicted or replaced meanwhile
        }
      }
      if (ok) {
        std::lock_guard lock(st.mu);
        ++st.counters.hits;
        const std::int64_t now = st.stamp_locked();
        State::set_mtime(data_path, now);
        auto it = st.entries.find(key);
        if (it == st.entries.end() || it->second.data != meta->data) {
          // Committed by another process, or evicted since we opened it
          // (then the mapping still serves this read).
          if (::access(data_path.c_str(), F_OK) == 0) {
            State::Entry e;
            e.data = meta->data;
            e.size = meta->size;
            it = st.entries.insert_or_assign(key, std::move(e)).first;
          } else {
            it = st.entries.end();
          }
        }
        if (it != st.entries.end()) {
          it->second.last_use = now;
          ++it->second.readers;
        }
        return std::make_unique<CachedSource>(state_, key, meta->data, std::move(file), meta->validator);
      }
    }
    // Present but unusable: drop it so that the refetch replaces it.
    file.reset();
    if (named) {
      st.discard(key, meta->data);
    } else {
      unlink_quietly(meta_path);
    }
  }

  {
    std::lock_guard lock(st.mu);
    ++st.counters.misses;
  }
  ByteSourcePtr origin = open_origin();
  return std::make_unique<TeeSource>(state_, key, url, std::move(cid), std::move(origin));
}

bool ShardCache::remove(const std::string& url) {
  State& st = *state_;
  const std::string key = sha256_hex(url);
  std::lock_guard lock(st.mu);
  bool had = false;
  if (auto it = st.entries.find(key); it != st.entries.end()) {
    st.erase_locked(it);
    had = true;
  }
  if (auto text = read_small_file(st.meta_path(key))) {
    auto m = parse_meta(*text);
    unlink_quietly(st.meta_path(key));
    if (m && valid_data_name(key, m->data)) unlink_quietly(st.dir / m->data);
    had = true;
  }
  return had;
}

ShardCache::Stats ShardCache::stats() const {
  std::lock_guard lock(state_->mu);
  Stats s = state_->counters;
  s.entries = state_->entries.size();
  s.bytes_cached = 0;
  for (const auto& [k, e] : state_->entries) s.bytes_cached += e.size;
  return s;
}

}  // namespace atdata
