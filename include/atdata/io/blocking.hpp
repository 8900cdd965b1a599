#pragma once
// Runs one coroutine to completion on an io_context and returns its result:
// the blocking form of every asynchronous operation, for scripts and simple
// programs (Boost.MySQL offers both forms the same way):
//
//   asio::io_context io;
//   auto client = atdata::run_blocking(io, AtmosphereClient::login(io.get_executor(), handle, pw));
//   auto ds = atdata::run_blocking(io, loader.to_dataset<Sample>(uri));
//
// Any result type works, including ones without a default constructor. The
// context must not be running on another thread. It returns as soon as the
// coroutine finishes, even if other work is still pending on the context (an
// idle pooled HTTP connection, a timer); that work resumes on the next call.
// For other completion styles, every awaitable also works with
// `asio::co_spawn(executor, op, token)` — `asio::use_future`, a callback,
// `asio::deferred`.

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "atdata/io/asio_build.hpp"

namespace atdata {

namespace asio = boost::asio;

namespace detail {

// Stores the result where the caller can take it. (co_spawn's own handler
// form `void(exception_ptr, T)` needs T to be default-constructible.)
template <class T>
asio::awaitable<void> store_result(asio::awaitable<T> task, std::optional<T>* out) {
  out->emplace(co_await std::move(task));
}

}  // namespace detail

template <class T>
T run_blocking(asio::io_context& ctx, asio::awaitable<T> task) {
  std::exception_ptr error;
  auto done = [&](std::exception_ptr e) {
    error = e;
    ctx.stop();
  };
  if constexpr (std::is_void_v<T>) {
    asio::co_spawn(ctx, std::move(task), done);
    ctx.restart();
    ctx.run();
    if (error) std::rethrow_exception(error);
  } else {
    std::optional<T> result;
    asio::co_spawn(ctx, detail::store_result(std::move(task), &result), done);
    ctx.restart();
    ctx.run();
    if (error) std::rethrow_exception(error);
    return std::move(*result);
  }
}

}  // namespace atdata
