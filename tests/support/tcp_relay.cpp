#include "support/tcp_relay.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <list>

namespace atdata::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

struct Pair {
  tcp::socket a, b;
  explicit Pair(const asio::any_io_executor& ex) : a(ex), b(ex) {}
  void close() {
    boost::system::error_code ec;
    // SO_LINGER 0: a reset, not an orderly FIN, like a dead network path.
    a.set_option(asio::socket_base::linger(true, 0), ec);
    b.set_option(asio::socket_base::linger(true, 0), ec);
    a.close(ec);
    b.close(ec);
  }
};

asio::awaitable<void> pump(std::shared_ptr<Pair> p, tcp::socket& from, tcp::socket& to) {
  std::array<char, 64 * 1024> buf;
  boost::system::error_code ec;
  for (;;) {
    const std::size_t n =
        co_await from.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    co_await asio::async_write(to, asio::buffer(buf.data(), n),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
  }
  p->close();
}

}  // namespace

struct TcpRelay::Impl : std::enable_shared_from_this<TcpRelay::Impl> {
  asio::any_io_executor ex;
  tcp::acceptor acceptor;
  tcp::endpoint target;
  std::list<std::weak_ptr<Pair>> pairs;
  std::uint64_t n_accepted = 0, n_dropped = 0;
  bool stopped = false;

  Impl(asio::any_io_executor e, const std::string& host, std::uint16_t port)
      : ex(e),
        acceptor(e, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        target(asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host), port) {}

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    for (;;) {
      auto p = std::make_shared<Pair>(ex);
      boost::system::error_code ec;
      co_await acceptor.async_accept(p->a, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || stopped) co_return;
      co_await p->b.async_connect(target, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        p->close();
        continue;
      }
      ++n_accepted;
      pairs.remove_if([](const std::weak_ptr<Pair>& w) { return w.expired(); });
      pairs.push_back(p);
      asio::co_spawn(ex, pump(p, p->a, p->b), asio::detached);
      asio::co_spawn(ex, pump(p, p->b, p->a), asio::detached);
    }
  }
};

TcpRelay::TcpRelay(asio::any_io_executor ex, std::string target_host, std::uint16_t target_port)
    : impl_(std::make_shared<Impl>(ex, target_host, target_port)) {
  asio::co_spawn(ex, impl_->accept_loop(), asio::detached);
}

TcpRelay::~TcpRelay() {
  impl_->stopped = true;
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
  drop_all();
}

std::uint16_t TcpRelay::port() const {
  return impl_->acceptor.local_endpoint().port();
}
std::string TcpRelay::url() const {
  return "http://127.0.0.1:" + std::to_string(port());
}

void TcpRelay::drop_all() {
  for (auto& w : impl_->pairs) {
    if (auto p = w.lock()) {
      if (p->a.is_open()) ++impl_->n_dropped;
      p->close();
    }
  }
  impl_->pairs.clear();
}

std::uint64_t TcpRelay::accepted() const {
  return impl_->n_accepted;
}
std::uint64_t TcpRelay::dropped() const {
  return impl_->n_dropped;
}

}  // namespace atdata::test
