#include "net/detail/erased_stream.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include <algorithm>
#include <cstring>
#include <span>
#include <vector>

namespace atdata::net::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;

struct ErasedStream::State {
  explicit State(AnyStream x) : s(std::move(x)) {}
  AnyStream s;
  std::array<asio::const_buffer, kGather> gather{};
  std::vector<std::byte> rbuf;  // allocated on the first read
  std::size_t rpos = 0, rend = 0;

  std::size_t take(asio::mutable_buffer b) noexcept {
    const std::size_t n = std::min(b.size(), rend - rpos);
    if (n > 0) std::memcpy(b.data(), rbuf.data() + rpos, n);
    rpos += n;
    return n;
  }
};

ErasedStream::ErasedStream(AnyStream s) : st_(std::make_shared<State>(std::move(s))) {}
ErasedStream::ErasedStream(ErasedStream&&) noexcept = default;
ErasedStream& ErasedStream::operator=(ErasedStream&&) noexcept = default;
ErasedStream::~ErasedStream() = default;

ErasedStream::executor_type ErasedStream::get_executor() noexcept {
  return std::visit([](auto& x) -> executor_type { return x.get_executor(); }, st_->s);
}

beast::tcp_stream& ErasedStream::tcp() noexcept {
  return lowest_layer(st_->s);
}

bool ErasedStream::tls() const noexcept {
  return st_->s.index() == 1;
}

AnyStream& ErasedStream::get() noexcept {
  return st_->s;
}

std::array<asio::const_buffer, ErasedStream::kGather>& ErasedStream::gather() noexcept {
  return st_->gather;
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
  constexpr std::size_t kReadBuffer = std::size_t{64} * 1024;
  auto bound = on_stream_executor(*this, std::move(handler));
  State& st = *st_;
  if (st.rpos < st.rend || b.size() == 0) {
    // Served from the buffer; still completed through the executor, never
    // inside the initiating call.
    const std::size_t n = st.take(b);
    asio::post(get_executor(),
               [h = std::move(bound), n]() mutable { std::move(h)(boost::system::error_code(), n); });
    return;
  }
  if (b.size() >= kReadBuffer) {  // large reads go straight to the caller's buffer
    std::visit([&](auto& x) { x.async_read_some(b, std::move(bound)); }, st.s);
    return;
  }
  if (st.rbuf.empty()) st.rbuf.resize(kReadBuffer);
  std::visit(
      [&](auto& x) {
        x.async_read_some(asio::buffer(st.rbuf), [keep = st_, b, h = std::move(bound)](
                                                     boost::system::error_code ec, std::size_t n) mutable {
          keep->rpos = 0;
          keep->rend = ec ? 0 : n;
          std::move(h)(ec, ec ? 0 : keep->take(b));
        });
      },
      st.s);
}

void ErasedStream::write_some(std::size_t count, IoHandler handler) {
  const std::span<const asio::const_buffer> bufs(st_->gather.data(), count);
  auto bound = on_stream_executor(*this, std::move(handler));
  std::visit([&](auto& x) { x.async_write_some(bufs, std::move(bound)); }, st_->s);
}

void ErasedStream::async_teardown(beast::role_type role, DoneHandler handler) {
  auto bound = on_stream_executor(*this, std::move(handler));
  std::visit(
      [&](auto& x) {
        using beast::websocket::async_teardown;
        async_teardown(role, x, std::move(bound));
      },
      st_->s);
}

void ErasedStream::teardown(beast::role_type role, boost::system::error_code& ec) {
  std::visit(
      [&](auto& x) {
        using beast::websocket::teardown;
        teardown(role, x, ec);
      },
      st_->s);
}

}  // namespace atdata::net::detail
