#include "session_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <random>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "atdata/atproto/session.hpp"
#include "atdata/atproto/syntax.hpp"

namespace atdata::cli {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

// Far above any real session (two JWTs of ~1 KiB); bounds what a damaged
// or hostile file can make us allocate.
constexpr std::size_t kMaxFileBytes = 64 * 1024;
constexpr std::int64_t kFormatVersion = 1;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string errno_text(int e) {
  return std::strerror(e);
}

[[noreturn]] void unusable(const fs::path& file, const std::string& why) {
  throw SessionFileError("session file " + file.string() + " " + why +
                         "; run `atdata login HANDLE` to replace it or `atdata logout` to remove it");
}

std::string member(const json::object& o, const char* key, const fs::path& file, bool required) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) {
    if (required) unusable(file, std::string("has no '") + key + "' member");
    return {};
  }
  if (!v->is_string()) unusable(file, std::string("has a '") + key + "' member that is not a string");
  return std::string(v->get_string());
}

// Closes on scope exit; the temporary file is unlinked unless released.
struct TempFile {
  int fd = -1;
  std::string path;
  ~TempFile() {
    if (fd >= 0) ::close(fd);
    if (!path.empty()) ::unlink(path.c_str());
  }
};

[[noreturn]] void cannot_write(const fs::path& file, const std::string& what, int e) {
  throw Error("cannot write session file " + file.string() + ": " + what + ": " + errno_text(e));
}

// mkdir -p, with the final directory private to the user. A directory that
// already exists keeps its mode: it is the user's to choose.
void make_config_dir(const fs::path& dir, const fs::path& file) {
  if (dir.empty()) return;
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return;
  if (dir.has_parent_path()) {
    fs::create_directories(dir.parent_path(), ec);
    if (ec) cannot_write(file, "creating " + dir.parent_path().string(), ec.value());
  }
  if (::mkdir(dir.c_str(), 0700) != 0) {
    if (errno != EEXIST) cannot_write(file, "creating " + dir.string(), errno);
    return;
  }
  // mkdir's mode is masked by the umask; 0700 exactly is what we promise.
  if (::chmod(dir.c_str(), 0700) != 0) cannot_write(file, "chmod " + dir.string(), errno);
}

}  // namespace

fs::path config_dir() {
  if (auto d = env("ATDATA_CONFIG_DIR"); !d.empty()) return fs::path(d);
  if (auto x = env("XDG_CONFIG_HOME"); !x.empty()) return fs::path(x) / "atdata";
  if (auto h = env("HOME"); !h.empty()) return fs::path(h) / ".config" / "atdata";
  throw InvalidArgument(
      "no configuration directory: set ATDATA_CONFIG_DIR, XDG_CONFIG_HOME or HOME to store the session");
}

fs::path session_file_path() {
  return config_dir() / "session.json";
}

std::optional<StoredSession> load_session_file(const fs::path& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    unusable(file, "cannot be opened (" + errno_text(errno) + ")");
  }
  TempFile guard;  // closes fd (path empty: nothing unlinked)
  guard.fd = fd;
  struct stat st {};
  if (::fstat(fd, &st) != 0) unusable(file, "cannot be read (" + errno_text(errno) + ")");
  if (!S_ISREG(st.st_mode)) unusable(file, "is not a regular file");
  // Like ssh with private keys: tokens others can read are refused rather
  // than silently used.
  if (st.st_uid != ::geteuid()) unusable(file, "belongs to another user");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    unusable(file, std::string("is accessible by other users (mode ") + mode + ", expected 0600)");
  }
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      unusable(file, "cannot be read (" + errno_text(errno) + ")");
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > kMaxFileBytes) unusable(file, "is larger than 64 KiB");
  }
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) unusable(file, "is not valid JSON");
  const json::object* o = v.if_object();
  if (!o) unusable(file, "is not a JSON object");
  if (const json::value* ver = o->if_contains("version")) {
    if (!ver->is_int64()) unusable(file, "has a 'version' member that is not an integer");
    if (ver->get_int64() > kFormatVersion)
      unusable(file,
               "was written by a newer atdata (format version " + std::to_string(ver->get_int64()) + ")");
  }
  StoredSession s;
  s.handle = member(*o, "handle", file, true);
  s.did = member(*o, "did", file, true);
  s.pds_url = member(*o, "pds_url", file, true);
  s.plc_url = member(*o, "plc_url", file, false);
  s.session = member(*o, "session", file, true);
  if (!atproto::is_valid_did(s.did)) unusable(file, "has a 'did' member that is not a DID");
  atproto::Session parsed;
  try {
    parsed = atproto::parse_session_string(s.session);
  } catch (const Error& e) {
    // parse_session_string describes the shape only, never the tokens.
    unusable(file, std::string("has an unusable session string (") + e.what() + ")");
  }
  if (parsed.did != s.did) unusable(file, "has a session string for another DID than its 'did' member");
  return s;
}

void save_session_file(const fs::path& file, const StoredSession& s) {
  json::object o;
  o["version"] = kFormatVersion;
  o["handle"] = s.handle;
  o["did"] = s.did;
  o["pds_url"] = s.pds_url;
  if (!s.plc_url.empty()) o["plc_url"] = s.plc_url;
  o["session"] = s.session;
  std::string text = json::serialize(o);
  text.push_back('\n');

  const fs::path dir = file.parent_path();
  make_config_dir(dir, file);
  std::random_device rd;
  char suffix[40];
  std::snprintf(suffix, sizeof suffix, ".tmp-%ld-%08x%08x", static_cast<long>(::getpid()), rd(), rd());
  TempFile tmp;
  const std::string tmp_path = (dir / ("." + file.filename().string() + suffix)).string();
  // O_EXCL: never write through a file or link someone planted under our name.
  tmp.fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (tmp.fd < 0) cannot_write(file, "creating " + tmp_path, errno);
  tmp.path = tmp_path;
  if (::fchmod(tmp.fd, 0600) != 0) cannot_write(file, "chmod", errno);  // the umask may have cut more
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(tmp.fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      cannot_write(file, "writing", errno);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(tmp.fd) != 0) cannot_write(file, "fsync", errno);
  if (::close(tmp.fd) != 0) {
    tmp.fd = -1;
    cannot_write(file, "closing", errno);
  }
  tmp.fd = -1;
  if (::rename(tmp_path.c_str(), file.c_str()) != 0) cannot_write(file, "renaming " + tmp_path, errno);
  tmp.path.clear();  // renamed: nothing left to unlink
  // Make the rename itself durable; failure here loses nothing written.
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

bool remove_session_file(const fs::path& file) {
  if (::unlink(file.c_str()) == 0) return true;
  if (errno == ENOENT) return false;
  throw Error("cannot remove session file " + file.string() + ": " + errno_text(errno));
}

}  // namespace atdata::cli
