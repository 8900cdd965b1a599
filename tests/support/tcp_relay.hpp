#pragma once
// A loopback TCP relay in front of a real server, for tests that must break
// a connection under a client: it forwards bytes both ways unchanged until
// drop_all() closes every relayed connection (both sides, abortively), as a
// network failure would. It runs on the executor it is given.

#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace atdata::test {

class TcpRelay {
 public:
  // Forwards to target_host:target_port.
  TcpRelay(boost::asio::any_io_executor ex, std::string target_host, std::uint16_t target_port);
  ~TcpRelay();
  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;

  std::uint16_t port() const;
  // "http://127.0.0.1:<port>"
  std::string url() const;
  // Closes every open relayed connection now; new ones are still accepted.
  void drop_all();
  std::uint64_t accepted() const;
  std::uint64_t dropped() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace atdata::test
