#include "atdata/io/shard_reader.hpp"

#include "atdata/error.hpp"
#include "atdata/io/compression.hpp"

namespace atdata {

bool split_member_name(std::string_view name, std::string_view& key, std::string_view& ext) noexcept {
  // Equivalent to the regex's backtracking: the key ends at the first dot of
  // the last path component, unless that component starts with a dot; then
  // the match needs the key to end with the last "/" and the component before
  // it to contain no dot (the key's [^.]+ then spans that "/").
  std::size_t last_slash = name.rfind('/');
  std::size_t comp = last_slash == std::string_view::npos ? 0 : last_slash + 1;
  std::size_t dot = name.find('.', comp);
  if (dot == std::string_view::npos) return false;
  if (dot > comp) {
    key = name.substr(0, dot);
    ext = name.substr(dot + 1);
    return true;
  }
  if (last_slash == std::string_view::npos) return false;  // name starts with "."
  std::size_t prev = last_slash == 0 ? std::string_view::npos : name.rfind('/', last_slash - 1);
  std::size_t prev_start = prev == std::string_view::npos ? 0 : prev + 1;
  if (name.substr(prev_start, last_slash - prev_start).find('.') != std::string_view::npos) return false;
  key = name.substr(0, last_slash + 1);
  ext = name.substr(dot + 1);
  return true;
}

bool is_meta_member_name(std::string_view name) noexcept {
  auto starts = [](std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; };
  auto ends = [](std::string_view s, std::string_view p) {
    return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
  };
  if (name.find('/') == std::string_view::npos && starts(name, "__") && ends(name, "__")) return true;
  std::string_view first = name.substr(0, name.find('/'));
  return first.size() >= 4 && starts(first, "__") && ends(first, "__");
}

std::optional<RawSample> SampleGrouper::push(TarEntry&& entry) {
  if (!entry.is_regular() || is_meta_member_name(entry.name)) return std::nullopt;
  std::string_view key, ext_raw;
  if (!split_member_name(entry.name, key, ext_raw)) return std::nullopt;
  std::string ext(ext_raw);
  for (char& c : ext)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  std::optional<RawSample> done;
  if (!cur_ || cur_->key != key) {
    done = std::move(cur_);
    cur_.emplace();
    cur_->key.assign(key);
    cur_->url = url_;
  }
  // The sample dict of webdataset already holds "__key__" and "__url__", so
  // those extensions collide too.
  if (ext == "__key__" || ext == "__url__" || cur_->find(ext)) {
    throw ShardError(*url_, entry.offset,
                     "duplicate file name in tar file: '" + entry.name + "' (extension '" + ext + "')");
  }
  cur_->members.push_back({std::move(ext), std::move(entry.data), entry.offset});
  return done;
}

std::optional<RawSample> SampleGrouper::finish() {
  std::optional<RawSample> done = std::move(cur_);
  cur_.reset();
  return done;
}

ShardParser::ShardParser(std::shared_ptr<const std::string> url)
    : url_(std::move(url)), dec_(*url_), tar_(*url_), grouper_(url_) {}

std::size_t ShardParser::pop(std::vector<RawSample>& out, std::size_t max) {
  if (pending_error_) {
    // The samples completed before the damage were handed out by the
    // previous call; now report it.
    done_ = true;
    std::rethrow_exception(std::exchange(pending_error_, nullptr));
  }
  std::size_t n = 0;
  try {
    while (n < max && !done_) {
      if (auto entry = tar_.pop()) {
        if (auto s = grouper_.push(std::move(*entry))) {
          out.push_back(std::move(*s));
          ++n;
        }
        continue;
      }
      if (tar_.at_end()) {
        if (auto s = grouper_.finish()) {
          out.push_back(std::move(*s));
          ++n;
        }
        done_ = true;
        break;
      }
      if (auto chunk = dec_.pop()) {
        tar_.feed(std::move(*chunk));
        continue;
      }
      if (!dec_.done()) break;  // needs input
      tar_.finish();            // throws: the archive did not end cleanly
      done_ = true;
    }
  } catch (const Error&) {
    if (n == 0) {
      done_ = true;
      throw;
    }
    pending_error_ = std::current_exception();
  }
  return n;
}

ShardReader::ShardReader(ByteSourcePtr source)
    : source_(std::move(source)), parser_(std::make_shared<const std::string>(source_->url())) {}

asio::awaitable<std::size_t> ShardReader::read(std::vector<RawSample>& out, std::size_t max) {
  if (failed_) std::rethrow_exception(std::exchange(failed_, nullptr));
  std::size_t n = 0;
  while (n < max && !parser_.done()) {
    const std::size_t got = parser_.pop(out, max - n);
    n += got;
    if (n == max || parser_.done()) break;
    SharedBytes chunk;
    try {
      chunk = co_await source_->next_chunk();
    } catch (const Error&) {
      // A failing source ends the shard like damage does: samples first.
      if (n == 0) throw;
      failed_ = std::current_exception();
      co_return n;
    }
    if (chunk.empty()) {
      parser_.finish();
    } else {
      parser_.feed(std::move(chunk));
    }
  }
  co_return n;
}

asio::awaitable<std::optional<RawSample>> ShardReader::next() {
  std::vector<RawSample> one;
  const std::size_t n = co_await read(one, 1);
  std::optional<RawSample> out;
  if (n > 0) out.emplace(std::move(one.front()));
  co_return out;
}

}  // namespace atdata
