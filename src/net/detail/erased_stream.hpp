#pragma once
// One stream type for plain TCP and TLS. Beast's WebSocket (and HTTP)
// algorithms are templates over the stream: over std::variant<tcp, tls> every
// operation is instantiated twice, and those two copies were most of the
// compile time of the WebSocket client and the test server. Over this type
// they are instantiated once; the transport is chosen at run time inside two
// out-of-line calls (read_some / write_some) that take a type-erased
// completion handler (its executor and allocator are kept).
//
// Reads are buffered (64 KiB): Beast's WebSocket asks for a frame header,
// then the payload, a few KiB at a time, and without a buffer each ask was a
// recvmsg system call, a third of a firehose subscriber's time.

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <array>
#include <cstddef>
#include <memory>

#include "net/detail/connect.hpp"

namespace atdata::net::detail {

using IoHandler = boost::asio::any_completion_handler<void(boost::system::error_code, std::size_t)>;
using DoneHandler = boost::asio::any_completion_handler<void(boost::system::error_code)>;

class ErasedStream {
 public:
  using executor_type = boost::asio::any_io_executor;

  explicit ErasedStream(AnyStream s);
  ErasedStream(ErasedStream&&) noexcept;
  ErasedStream& operator=(ErasedStream&&) noexcept;
  ~ErasedStream();

  executor_type get_executor() noexcept;
  boost::beast::tcp_stream& tcp() noexcept;
  bool tls() const noexcept;
  // The transport itself, e.g. for a server-side TLS handshake (before any
  // read through this object: bytes it buffered would be skipped).
  AnyStream& get() noexcept;

  // At most one read and one write outstanding (as for any Asio stream).
  template <class MutableBufferSequence, class Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [](auto handler, ErasedStream* self, boost::asio::mutable_buffer b) {
          self->read_some(b, IoHandler(std::move(handler)));
        },
        token, this, first_nonempty(buffers));
  }

  // Up to kGather buffers go out in one call (a WebSocket frame header and
  // its payload); a write_some may always write less than it was given.
  template <class ConstBufferSequence, class Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    std::size_t n = 0;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers) && n < kGather; ++it) {
      const boost::asio::const_buffer b(*it);
      if (b.size() > 0) gather()[n++] = b;
    }
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [](auto handler, ErasedStream* self, std::size_t count) {
          self->write_some(count, IoHandler(std::move(handler)));
        },
        token, this, n);
  }

  // The WebSocket closing handshake's transport part (TLS close_notify, then
  // the TCP shutdown), as Beast's teardown for each stream type does it.
  void async_teardown(boost::beast::role_type role, DoneHandler handler);
  void teardown(boost::beast::role_type role, boost::system::error_code& ec);

 private:
  static constexpr std::size_t kGather = 8;
  struct State;
  std::array<boost::asio::const_buffer, kGather>& gather() noexcept;

  template <class MutableBufferSequence>
  static boost::asio::mutable_buffer first_nonempty(const MutableBufferSequence& buffers) {
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      const boost::asio::mutable_buffer b(*it);
      if (b.size() > 0) return b;
    }
    return {};
  }

  void read_some(boost::asio::mutable_buffer b, IoHandler handler);
  void write_some(std::size_t count, IoHandler handler);

  // Shared with pending operations, which may complete after this object
  // was moved from or destroyed (with an error: the socket is closed).
  std::shared_ptr<State> st_;
};

// Found by Beast through argument-dependent lookup.
template <class Handler>
void async_teardown(boost::beast::role_type role, ErasedStream& s, Handler&& handler) {
  s.async_teardown(role, DoneHandler(std::forward<Handler>(handler)));
}
inline void teardown(boost::beast::role_type role, ErasedStream& s, boost::system::error_code& ec) {
  s.teardown(role, ec);
}
inline void beast_close_socket(ErasedStream& s) {
  boost::system::error_code ec;
  s.tcp().socket().close(ec);
}

}  // namespace atdata::net::detail
