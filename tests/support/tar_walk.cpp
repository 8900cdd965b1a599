#include "support/tar_walk.hpp"

#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace atdata::test {

namespace {

std::uint64_t octal(const char* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n && p[i] != '\0' && p[i] != ' '; ++i) {
    if (p[i] < '0' || p[i] > '7') throw std::runtime_error("tar: bad octal field");
    v = v * 8 + static_cast<std::uint64_t>(p[i] - '0');
  }
  return v;
}

std::string cstr(const char* p, std::size_t n) {
  return std::string(p, strnlen(p, n));
}

// PAX records "LEN key=value\n"; returns the `path` value if present.
std::string pax_path(std::string_view body) {
  std::string path;
  while (!body.empty()) {
    const auto sp = body.find(' ');
    if (sp == std::string_view::npos) throw std::runtime_error("tar: bad PAX record");
    const auto len = std::stoul(std::string(body.substr(0, sp)));
    if (len > body.size() || len <= sp + 1) throw std::runtime_error("tar: bad PAX length");
    const auto rec = body.substr(sp + 1, len - sp - 2);  // without trailing '\n'
    if (rec.substr(0, 5) == "path=") path = std::string(rec.substr(5));
    body.remove_prefix(len);
  }
  return path;
}

}  // namespace

std::vector<TarMember> tar_members(const SharedBytes& archive) {
  std::vector<TarMember> out;
  const char* base = reinterpret_cast<const char*>(archive.data());
  const std::size_t size = archive.size();
  std::size_t pos = 0;
  std::string next_name;
  while (pos + 512 <= size) {
    const char* h = base + pos;
    bool zero = true;
    for (int i = 0; i < 512 && zero; ++i) zero = h[i] == '\0';
    if (zero) break;
    unsigned sum = 0;
    for (int i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
    if (sum != octal(h + 148, 8)) throw std::runtime_error("tar: header checksum mismatch");
    const std::uint64_t len = octal(h + 124, 12);
    const char type = h[156];
    pos += 512;
    if (len > size - pos) throw std::runtime_error("tar: member extends past the end");
    std::string_view body(base + pos, len);
    if (type == 'x') {
      next_name = pax_path(body);
    } else if (type == 'g') {
      // global header: ignored
    } else if (type == '0' || type == '\0') {
      std::string name = cstr(h, 100);
      if (std::memcmp(h + 257, "ustar", 5) == 0 && h[345] != '\0') name = cstr(h + 345, 155) + "/" + name;
      if (!next_name.empty()) name = std::move(next_name);
      next_name.clear();
      out.push_back({std::move(name), archive.slice(pos, len)});
    } else {
      next_name.clear();
    }
    pos += (len + 511) / 512 * 512;
  }
  return out;
}

SharedBytes read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  std::vector<char> buf((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<std::byte> b(buf.size());
  if (!buf.empty()) std::memcpy(b.data(), buf.data(), buf.size());
  return SharedBytes::adopt(std::move(b));
}

}  // namespace atdata::test
