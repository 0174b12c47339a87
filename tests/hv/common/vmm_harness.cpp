#include "vmm_harness.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "vitrine/hv/vm_config.hpp"

namespace vitrine::hv::test {

std::string read_text(const std::filesystem::path& file) {
  std::string text;
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
  return text;
}

Result<std::unique_ptr<VmmHarness>> VmmHarness::start(const std::string& toml, const std::string& vmm_path,
                                                      std::vector<std::string> extra_args) {
  auto h = std::make_unique<VmmHarness>();
  char tmpl[] = "/tmp/hv-test-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return std::unexpected(Error::sys("mkdtemp", errno));
  h->dir_ = tmpl;
  std::string text = toml;
  for (std::size_t at; (at = text.find("@DIR@")) != std::string::npos;) text.replace(at, 5, h->dir_.string());
  std::ofstream(h->dir_ / "vm.toml") << text;
  auto config = load_vm_config(h->dir_ / "vm.toml");
  if (!config)
    return std::unexpected(invalid(config.error().to_string()));
  auto bus = VmBus::create(*config);
  if (!bus) return std::unexpected(bus.error());
  h->bus_.emplace(std::move(*bus));
  auto fds = h->bus_->dup_fds();
  if (!fds) return std::unexpected(fds.error());
  const std::string log = (h->dir_ / "vmm.log").string();
  UniqueFd log_fd(::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  VmmLaunch l;
  l.vmm_path = vmm_path;
  l.config = h->dir_ / "vm.toml";
  l.extra_args = std::move(extra_args);
  l.extra_args.insert(l.extra_args.end(), {"--log-dir", h->dir_.string()});
  l.stderr_fd = log_fd.get();
  auto client = VmmClient::launch(l, *fds);
  if (!client) return std::unexpected(client.error());
  h->client_.emplace(std::move(*client));
  h->host_.emplace(h->bus_->bus().channel(0));
  return h;
}

VmmHarness::~VmmHarness() {
  if (client_) (void)client_->stop(std::chrono::seconds(10));
  client_.reset();
  std::error_code ec;
  if (!dir_.empty() && std::getenv("HV_KEEP_LOGS") == nullptr) std::filesystem::remove_all(dir_, ec);
}

Result<std::string> VmmHarness::wait_for(std::string_view prefix, std::chrono::milliseconds timeout) {
  // Events alive() read while waiting for a hello come first, in order.
  while (!unread_.empty()) {
    std::string e = std::move(unread_.front());
    unread_.pop_front();
    if (e.starts_with(prefix)) return e;
  }
  auto r = client_->wait_for(prefix, timeout, &events_);
  if (r) events_.push_back(*r);
  return r;
}

Result<void> VmmHarness::alive() {
  // Events first: "state crashed ..." says why, the exit status only that it happened.
  for (;;) {
    auto e = client_->next_event(std::chrono::milliseconds(0));
    if (!e) break;  // control socket closed: the exit status below tells the rest
    if (!*e) break;
    events_.push_back(**e);
    unread_.push_back(**e);
    if ((*e)->starts_with("state stopped") || (*e)->starts_with("state crashed"))
      return std::unexpected(Error{Errc::kPeerClosed, 0, "the VM ended: " + **e});
  }
  auto st = client_->process().try_wait();
  if (!st) return std::unexpected(st.error());
  if (*st)
    return std::unexpected(
        Error{Errc::kPeerClosed, 0, "vitrine-vmm exited (" + (*st)->to_string() + ")"});
  return {};
}

Result<echo::Hello> VmmHarness::wait_hello(std::chrono::milliseconds timeout) {
  // The echo protocol speaks the bus's errors; the harness hv's (a VM that ended: kPeerClosed).
  auto hello = host_->wait_hello(timeout, [this] { return alive(); });
  if (!hello) return std::unexpected(from_bus(hello.error()));
  return *hello;
}

std::string VmmHarness::logs() const {
  std::ostringstream out;
  out << "events:\n";
  for (const auto& e : events_) out << "  " << e << "\n";
  std::error_code ec;
  for (const auto& f : std::filesystem::directory_iterator(dir_, ec)) {
    if (f.path().extension() != ".log") continue;
    std::string content = read_text(f.path());
    if (content.size() > 4000) content = "..." + content.substr(content.size() - 4000);
    out << "---- " << f.path().filename().string() << "\n" << content << "\n";
  }
  return out.str();
}

}  // namespace vitrine::hv::test
