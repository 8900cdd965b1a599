#include "net/detail/erased_stream.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include <span>

namespace atdata::net::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;

ErasedStream::ErasedStream(AnyStream s) : s_(std::make_unique<AnyStream>(std::move(s))) {}
ErasedStream::ErasedStream(ErasedStream&&) noexcept = default;
ErasedStream& ErasedStream::operator=(ErasedStream&&) noexcept = default;
ErasedStream::~ErasedStream() = default;

ErasedStream::executor_type ErasedStream::get_executor() noexcept {
  return std::visit([](auto& x) -> executor_type { return x.get_executor(); }, *s_);
}

beast::tcp_stream& ErasedStream::tcp() noexcept {
  return lowest_layer(*s_);
}

bool ErasedStream::tls() const noexcept {
  return s_->index() == 1;
}

// Beast's stream operations post with blocking.never, which Asio 1.81's
// any_completion_executor (a type-erased handler's executor) cannot be asked
// for. The handlers run on the stream's executor instead: every operation on
// these streams comes from the WebSocket or HTTP code on that same executor,
// never bound to another one.
template <class Handler>
auto on_stream_executor(ErasedStream& s, Handler h) {
  return asio::bind_executor(s.get_executor(), std::move(h));
}

void ErasedStream::read_some(asio::mutable_buffer b, IoHandler handler) {
  auto bound = on_stream_executor(*this, std::move(handler));
  std::visit([&](auto& x) { x.async_read_some(b, std::move(bound)); }, *s_);
}

void ErasedStream::write_some(std::size_t count, IoHandler handler) {
  const std::span<const asio::const_buffer> bufs(gather_.data(), count);
  auto bound = on_stream_executor(*this, std::move(handler));
  std::visit([&](auto& x) { x.async_write_some(bufs, std::move(bound)); }, *s_);
}

void ErasedStream::async_teardown(beast::role_type role, DoneHandler handler) {
  auto bound = on_stream_executor(*this, std::move(handler));
  std::visit(
      [&](auto& x) {
        using beast::websocket::async_teardown;
        async_teardown(role, x, std::move(bound));
      },
      *s_);
}

void ErasedStream::teardown(beast::role_type role, boost::system::error_code& ec) {
  std::visit(
      [&](auto& x) {
        using beast::websocket::teardown;
        teardown(role, x, ec);
      },
      *s_);
}

}  // namespace atdata::net::detail
