#pragma once
// Runs one coroutine on an io_context to completion (or until it finishes,
// even if other work such as a mock server's accept loop is still pending)
// and returns its result or rethrows its exception.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <exception>
#include <optional>
#include <utility>

namespace atdata::test {

template <class T>
T run_io(boost::asio::io_context& ioc, boost::asio::awaitable<T> aw) {
  std::optional<T> result;
  std::exception_ptr err;
  boost::asio::co_spawn(ioc, std::move(aw), [&](std::exception_ptr e, T v) {
    err = e;
    if (!e) result.emplace(std::move(v));
    ioc.stop();
  });
  ioc.restart();
  ioc.run();
  if (err) std::rethrow_exception(err);
  return std::move(*result);
}

inline void run_io(boost::asio::io_context& ioc, boost::asio::awaitable<void> aw) {
  std::exception_ptr err;
  boost::asio::co_spawn(ioc, std::move(aw), [&](std::exception_ptr e) {
    err = e;
    ioc.stop();
  });
  ioc.restart();
  ioc.run();
  if (err) std::rethrow_exception(err);
}

}  // namespace atdata::test
