#pragma once
// Runs one coroutine on an io_context to completion (or until it finishes,
// even if other work such as a mock server's accept loop is still pending)
// and returns its result or rethrows its exception: the library's own
// run_blocking, under the name the suites use.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <utility>

#include "atdata/io/blocking.hpp"

namespace atdata::test {

template <class T>
T run_io(boost::asio::io_context& ioc, boost::asio::awaitable<T> aw) {
  return atdata::run_blocking(ioc, std::move(aw));
}

}  // namespace atdata::test
