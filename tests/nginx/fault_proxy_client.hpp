#pragma once
// What the nginx suites share about their fixtures: the run directories'
// URL files and the fault proxy's per-(spec, path) counters.

#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "atdata/net/http_client.hpp"
#include "support/net_run.hpp"

namespace atdata::test {

// The first line of a fixture's file (e.g. <run-dir>/url).
inline std::string read_line(const std::string& path) {
  std::ifstream f(path);
  std::string s;
  std::getline(f, s);
  if (s.empty()) throw std::runtime_error("missing " + path + " (is the fixture running?)");
  return s;
}

struct ProxyStats {
  std::int64_t requests = 0;
  std::int64_t ranged = 0;
  std::int64_t statuses = 0;
  std::int64_t resets = 0;
  std::int64_t stalls = 0;
};

// The proxy's counters for `path` requested with fault spec `spec`.
inline ProxyStats proxy_stats(const std::string& proxy, const std::string& spec, const std::string& path) {
  boost::asio::io_context io;
  net::HttpClient c(io.get_executor());
  auto r = run_io(io, c.get(proxy + "/_stats/" + spec + "/" + path));
  r.throw_if_error();
  const auto o = boost::json::parse(r.body).as_object();
  ProxyStats s;
  s.requests = o.at("requests").as_int64();
  s.ranged = o.at("ranged").as_int64();
  s.statuses = o.at("statuses").as_int64();
  s.resets = o.at("resets").as_int64();
  s.stalls = o.at("stalls").as_int64();
  return s;
}

}  // namespace atdata::test
