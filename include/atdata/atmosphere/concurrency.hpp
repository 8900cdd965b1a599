#pragma once
// Run n awaitable tasks with at most `max_in_flight` at a time (workers pull
// the next index), on a strand so the bookkeeping needs no locks even when
// the io_context runs on several threads. After the first failure no new
// task starts; the in-flight ones finish, then the first exception is
// rethrown.

#include <cstddef>
#include <functional>

#include <boost/asio/awaitable.hpp>

namespace atdata::atmosphere::detail {

boost::asio::awaitable<void> for_each_bounded(std::size_t n, std::size_t max_in_flight,
                                              std::function<boost::asio::awaitable<void>(std::size_t)> task);

}  // namespace atdata::atmosphere::detail
