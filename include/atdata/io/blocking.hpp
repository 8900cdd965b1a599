#pragma once
// Runs one coroutine to completion on an io_context and returns its result:
// the plain blocking API on top of the async one, for simple programs and
// tests. The context must not be running on another thread. It returns as
// soon as the coroutine finishes, even if other work is still pending on the
// context (an idle pooled HTTP connection, a timer); that work resumes on the
// next call.

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "atdata/io/asio_build.hpp"

namespace atdata {

namespace asio = boost::asio;

template <class T>
T run_blocking(asio::io_context& ctx, asio::awaitable<T> task) {
  std::exception_ptr error;
  if constexpr (std::is_void_v<T>) {
    asio::co_spawn(ctx, std::move(task), [&](std::exception_ptr e) {
      error = e;
      ctx.stop();
    });
    ctx.restart();
    ctx.run();
    if (error) std::rethrow_exception(error);
  } else {
    std::optional<T> result;
    asio::co_spawn(ctx, std::move(task), [&](std::exception_ptr e, T value) {
      if (e) {
        error = e;
      } else {
        result.emplace(std::move(value));
      }
      ctx.stop();
    });
    ctx.restart();
    ctx.run();
    if (error) std::rethrow_exception(error);
    return std::move(*result);
  }
}

}  // namespace atdata
