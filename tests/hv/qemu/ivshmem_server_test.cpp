// IvshmemServer against a client written from QEMU's ivshmem-spec (no QEMU needed), and the
// QEMU command line.
#include "vitrine/hv/ivshmem_server.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <endian.h>

#include "vitrine/hv/qemu_command.hpp"

namespace vitrine::hv {
namespace {

struct Message {
  std::int64_t value = 0;
  int fd = -1;  // owned by the test
};

// Reads one protocol message: 8 bytes little-endian, maybe one fd.
bool read_message(int sock, Message& m) {
  pollfd p{sock, POLLIN, 0};
  if (::poll(&p, 1, 2000) != 1) return false;
  std::uint64_t le = 0;
  iovec iov{&le, sizeof le};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control;
  mh.msg_controllen = sizeof control;
  if (::recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) != static_cast<ssize_t>(sizeof le)) return false;
  m.value = static_cast<std::int64_t>(le64toh(le));
  m.fd = -1;
  for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c != nullptr; c = CMSG_NXTHDR(&mh, c))
    if (c->cmsg_type == SCM_RIGHTS) std::memcpy(&m.fd, CMSG_DATA(c), sizeof m.fd);
  return true;
}

int connect_to(const std::string& path) {
  const int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
  EXPECT_EQ(::connect(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  return s;
}

ino_t inode(int fd) {
  struct stat st{};
  ::fstat(fd, &st);
  return st.st_ino;
}

class IvshmemServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hv-ivshmem-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    shm_ = ::memfd_create("ivshmem-test", MFD_CLOEXEC);
    wake_host_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    wake_guest_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  }
  void TearDown() override {
    for (int fd : {shm_, wake_host_, wake_guest_})
      if (fd >= 0) ::close(fd);
    std::filesystem::remove_all(dir_);
  }
  std::string dir_;
  int shm_ = -1, wake_host_ = -1, wake_guest_ = -1;
};

TEST_F(IvshmemServerTest, shouldSendTheSpecSetupSequenceToTheFirstClient) {
  auto server = IvshmemServer::listen(dir_ + "/s", shm_, {wake_host_}, {wake_guest_});
  ASSERT_TRUE(server.has_value()) << ringbus::to_string(server.error());
  const int client = connect_to(dir_ + "/s");
  auto accepted = server->accept_client();
  ASSERT_TRUE(accepted.has_value()) << ringbus::to_string(accepted.error());

  Message m;
  ASSERT_TRUE(read_message(client, m));  // 1. version
  EXPECT_EQ(m.value, 0);
  EXPECT_EQ(m.fd, -1);
  ASSERT_TRUE(read_message(client, m));  // 2. own id
  EXPECT_EQ(m.value, 1);
  EXPECT_EQ(m.fd, -1);
  ASSERT_TRUE(read_message(client, m));  // 3. -1 + shared memory
  EXPECT_EQ(m.value, -1);
  ASSERT_GE(m.fd, 0);
  EXPECT_EQ(inode(m.fd), inode(shm_));
  ::close(m.fd);
  ASSERT_TRUE(read_message(client, m));  // 4. peer 0 (the host), vector 0 = wake_host
  EXPECT_EQ(m.value, 0);
  ASSERT_GE(m.fd, 0);
  // Writing the fd QEMU would write for "interrupt peer 0" wakes the host's eventfd.
  const std::uint64_t one = 1;
  ASSERT_EQ(::write(m.fd, &one, sizeof one), 8);
  std::uint64_t got = 0;
  EXPECT_EQ(::read(wake_host_, &got, sizeof got), 8);
  EXPECT_EQ(got, 1u);
  ::close(m.fd);
  ASSERT_TRUE(read_message(client, m));  // 5. own id, vector 0 = wake_guest
  EXPECT_EQ(m.value, 1);
  ASSERT_GE(m.fd, 0);
  EXPECT_EQ(inode(m.fd), inode(wake_guest_));
  ::close(m.fd);
  ::close(client);
}

TEST_F(IvshmemServerTest, shouldAnnounceNewcomersAndDepartures) {
  auto server = IvshmemServer::listen(dir_ + "/s", shm_, {wake_host_}, {wake_guest_});
  ASSERT_TRUE(server.has_value());
  const int first = connect_to(dir_ + "/s");
  auto a = server->accept_client();
  ASSERT_TRUE(a.has_value());
  Message m;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(read_message(first, m));
    if (m.fd >= 0) ::close(m.fd);
  }
  const int second = connect_to(dir_ + "/s");
  auto b = server->accept_client();
  ASSERT_TRUE(b.has_value());
  // The second client hears of peer 0 and peer 1 before its own vectors.
  std::vector<std::int64_t> values;
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(read_message(second, m));
    values.push_back(m.value);
    if (m.fd >= 0) ::close(m.fd);
  }
  EXPECT_EQ(values, (std::vector<std::int64_t>{0, 2, -1, 0, 1, 2}));
  // The first client hears of peer 2 (with an fd), then of its departure (without).
  ASSERT_TRUE(read_message(first, m));
  EXPECT_EQ(m.value, 2);
  EXPECT_GE(m.fd, 0);
  ::close(m.fd);
  server->disconnect(*b);
  ASSERT_TRUE(read_message(first, m));
  EXPECT_EQ(m.value, 2);
  EXPECT_EQ(m.fd, -1);
  ::close(first);
  ::close(second);
}

TEST(QemuCommandTest, shouldShareTheBusAndPickTheAccelerator) {
  VmConfig c;
  c.name = "x";
  c.kernel = "/k";
  c.initramfs = "/i";
  QemuPaths p;
  p.serial_log = "/l/serial.log";
  p.ivshmem_socket = "/s/ivshmem.sock";
  p.region_fd_in_child = 3;
  p.region_size = 1 << 22;
  auto has = [](const std::vector<std::string>& a, const std::string& s) {
    return std::find(a.begin(), a.end(), s) != a.end();
  };
  auto a = qemu_command(c, p);
  EXPECT_TRUE(has(a, "tcg"));
  EXPECT_TRUE(has(a, "file:/l/serial.log"));
  EXPECT_TRUE(has(a, "socket,id=vbus,path=/s/ivshmem.sock"));
  EXPECT_TRUE(has(a, "ivshmem-doorbell,chardev=vbus,vectors=1"));
  EXPECT_FALSE(has(a, "virtio-net-pci,netdev=net0"));
  EXPECT_TRUE(has(a, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"));
  c.doorbell = DoorbellMode::kIvshmemPlain;
  c.user_net = true;
  p.kvm = true;
  a = qemu_command(c, p);
  EXPECT_TRUE(has(a, "kvm"));
  EXPECT_TRUE(has(a, "memory-backend-file,id=vbus,share=on,size=4194304,mem-path=/proc/self/fd/3"));
  EXPECT_TRUE(has(a, "ivshmem-plain,memdev=vbus"));
  EXPECT_TRUE(has(a, "virtio-net-pci,netdev=net0"));
  EXPECT_TRUE(has(a, "user,id=net0"));
}

TEST(QemuCommandTest, shouldPutEveryUserNetForwardOnTheNetdev) {
  VmConfig c;
  c.kernel = "/k";
  c.initramfs = "/i";
  c.user_net = true;
  c.user_net_forwards = {"tcp:127.0.0.1:5555-:3389", "udp::53-10.0.2.15:53"};
  QemuPaths p;
  p.serial_log = "/l";
  p.ivshmem_socket = "/s";
  const auto a = qemu_command(c, p);
  const auto at = std::find(a.begin(), a.end(), "-netdev");
  ASSERT_NE(at, a.end());
  ASSERT_NE(at + 1, a.end());
  EXPECT_EQ(*(at + 1), "user,id=net0,hostfwd=tcp:127.0.0.1:5555-:3389,hostfwd=udp::53-10.0.2.15:53");
  EXPECT_EQ(std::count(a.begin(), a.end(), "-netdev"), 1);
  // Without user_net the forwards have nowhere to go (the config refuses that combination).
  c.user_net = false;
  const auto b = qemu_command(c, p);
  EXPECT_EQ(std::find(b.begin(), b.end(), "-netdev"), b.end());
}

}  // namespace
}  // namespace vitrine::hv
