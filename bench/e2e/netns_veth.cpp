#include "netns_veth.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>
#include <vector>

namespace vitrine::bench {
namespace {

// Runs `ip ARGS...` without a shell; value: exit status (-1 if it could not run).
int run_ip(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  std::string ip = "ip";
  argv.push_back(ip.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) {
      ::dup2(null, 1);
      ::dup2(null, 2);
    }
    ::execvp("ip", argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

std::expected<NetnsVeth, std::string> NetnsVeth::create() {
  if (::geteuid() != 0) return std::unexpected(std::string("the veth baseline needs root (ip netns); skipped"));
  const unsigned pid = static_cast<unsigned>(::getpid());
  NetnsVeth n;
  n.name_ = "vtrbench" + std::to_string(pid);
  const std::string host_if = "vh" + std::to_string(pid), guest_if = "vg" + std::to_string(pid);
  // 10.200-239.x.0/30 from the pid: distinct per concurrent run, clear of common LANs.
  const std::string prefix = "10." + std::to_string(200 + (pid >> 14) % 40) + "." + std::to_string((pid >> 6) & 0xFF) +
                             "." + std::to_string((pid & 0x3F) << 2);
  const std::string base = prefix.substr(0, prefix.rfind('.') + 1);
  const unsigned last = (pid & 0x3F) << 2;
  const std::string host_addr = base + std::to_string(last + 1), inside = base + std::to_string(last + 2);
  if (run_ip({"netns", "add", n.name_}) != 0)
    return std::unexpected("`ip netns add` failed (iproute2 missing or no CAP_NET_ADMIN); veth baseline skipped");
  n.owned_ = true;
  n.inside_ = inside;
  const std::vector<std::vector<std::string>> steps = {
      {"link", "add", host_if, "type", "veth", "peer", "name", guest_if},
      {"link", "set", guest_if, "netns", n.name_},
      {"addr", "add", host_addr + "/30", "dev", host_if},
      {"link", "set", host_if, "up"},
      {"-n", n.name_, "addr", "add", inside + "/30", "dev", guest_if},
      {"-n", n.name_, "link", "set", guest_if, "up"},
      {"-n", n.name_, "link", "set", "lo", "up"},
  };
  for (const auto& s : steps) {
    if (run_ip(s) != 0) {
      std::string text = "ip";
      for (const auto& a : s) text += " " + a;
      return std::unexpected("`" + text + "` failed; veth baseline skipped");
    }
  }
  return n;
}

NetnsVeth::NetnsVeth(NetnsVeth&& other) noexcept
    : name_(std::move(other.name_)), inside_(std::move(other.inside_)), owned_(std::exchange(other.owned_, false)) {}

NetnsVeth::~NetnsVeth() {
  if (owned_) (void)run_ip({"netns", "del", name_});  // takes the veth pair with it
}

std::expected<ringbus::UniqueFd, std::string> NetnsVeth::listen_inside(std::uint16_t& port) const {
  std::expected<ringbus::UniqueFd, std::string> result = std::unexpected(std::string("not run"));
  std::thread helper([&] {
    ringbus::UniqueFd ns(::open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns || ::setns(ns.get(), CLONE_NEWNET) != 0) {
      result = std::unexpected("cannot enter network namespace " + name_ + ": " + std::strerror(errno));
      return;
    }
    ringbus::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::inet_pton(AF_INET, inside_.c_str(), &a.sin_addr);
    socklen_t len = sizeof a;
    if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd.get(), 4) != 0 ||
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      result = std::unexpected(std::string("listen inside the namespace: ") + std::strerror(errno));
      return;
    }
    port = ntohs(a.sin_port);
    result = std::move(fd);
  });
  helper.join();  // the thread (and its namespace) ends; the socket stays in the namespace
  return result;
}

}  // namespace vitrine::bench
