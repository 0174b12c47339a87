// Validation of the VM TOML file. Style: every accessor takes the dotted path of the field so
// that each error names it; the table walkers reject keys they do not know.
#include "vitrine/hv/vm_config.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <toml++/toml.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

namespace vitrine::hv {
namespace {

using Fail = std::unexpected<ConfigError>;

Fail fail(std::string field, std::string message) {
  return Fail(ConfigError{std::move(field), std::move(message)});
}

std::string_view type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    default: return "a date/time";
  }
}

std::string join(std::string_view prefix, std::string_view key) {
  return prefix.empty() ? std::string(key) : std::string(prefix) + "." + std::string(key);
}

// Rejects keys of `table` outside `known`.
std::expected<void, ConfigError> only_keys(const toml::table& table, std::string_view prefix,
                                           std::initializer_list<std::string_view> known) {
  for (auto&& [key, node] : table) {
    if (std::find(known.begin(), known.end(), key.str()) == known.end())
      return fail(join(prefix, key.str()), "unknown key");
  }
  return {};
}

bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
  });
}

std::expected<std::optional<std::string>, ConfigError> get_string(const toml::table& t,
                                                                  std::string_view prefix,
                                                                  std::string_view key) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return std::nullopt;
  if (!n->is_string())
    return fail(join(prefix, key), std::string("must be a string, not ") + std::string(type_name(*n)));
  return std::optional<std::string>(n->as_string()->get());
}

std::expected<std::optional<std::int64_t>, ConfigError> get_int(const toml::table& t,
                                                                std::string_view prefix,
                                                                std::string_view key,
                                                                std::int64_t min, std::int64_t max) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return std::nullopt;
  if (!n->is_integer())
    return fail(join(prefix, key), std::string("must be an integer, not ") + std::string(type_name(*n)));
  const std::int64_t v = n->as_integer()->get();
  if (v < min || v > max)
    return fail(join(prefix, key), std::to_string(v) + " is outside [" + std::to_string(min) + ", " +
                                       std::to_string(max) + "]");
  return std::optional<std::int64_t>(v);
}

std::expected<std::optional<bool>, ConfigError> get_bool(const toml::table& t, std::string_view prefix,
                                                         std::string_view key) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return std::nullopt;
  if (!n->is_boolean())
    return fail(join(prefix, key), std::string("must be a boolean, not ") + std::string(type_name(*n)));
  return std::optional<bool>(n->as_boolean()->get());
}

template <typename E>
std::expected<std::optional<E>, ConfigError> get_enum(
    const toml::table& t, std::string_view prefix, std::string_view key,
    std::initializer_list<std::pair<std::string_view, E>> values) {
  auto s = get_string(t, prefix, key);
  if (!s) return Fail(s.error());
  if (!*s) return std::nullopt;
  std::string allowed;
  for (auto& [name, value] : values) {
    if (**s == name) return std::optional<E>(value);
    allowed += (allowed.empty() ? "" : ", ") + std::string(name);
  }
  return fail(join(prefix, key), "unknown value \"" + **s + "\" (expected one of: " + allowed + ")");
}

// A power-of-two byte size in [min, max] -> its log2.
std::expected<std::optional<std::uint32_t>, ConfigError> get_pow2(const toml::table& t,
                                                                  std::string_view prefix,
                                                                  std::string_view key,
                                                                  std::int64_t min, std::int64_t max) {
  auto v = get_int(t, prefix, key, min, max);
  if (!v) return Fail(v.error());
  if (!*v) return std::nullopt;
  const auto u = static_cast<std::uint64_t>(**v);
  if (!std::has_single_bit(u))
    return fail(join(prefix, key), std::to_string(u) + " is not a power of two");
  return std::optional<std::uint32_t>(static_cast<std::uint32_t>(std::countr_zero(u)));
}

std::expected<const toml::table*, ConfigError> get_table(const toml::table& t, std::string_view prefix,
                                                        std::string_view key) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return nullptr;
  if (!n->is_table())
    return fail(join(prefix, key), std::string("must be a table, not ") + std::string(type_name(*n)));
  return n->as_table();
}

std::filesystem::path resolve(const std::filesystem::path& base, const std::string& p) {
  std::filesystem::path path(p);
  return path.is_absolute() ? path : base / path;
}

#define TRY_ASSIGN(var, expr)                      \
  auto var = (expr);                               \
  if (!var) return Fail(std::move(var.error()))

std::expected<void, ConfigError> parse_bus(const toml::table& bus, VmConfig& c) {
  if (auto r = only_keys(bus, "bus", {"size", "channels", "ring_size", "h2g_ring_size", "g2h_ring_size", "surface_pool"}); !r)
    return r;
  TRY_ASSIGN(size, get_int(bus, "bus", "size", 1, std::int64_t{1} << 40));
  if (!*size) return fail("bus.size", "missing (bytes, a power of two)");
  if (!std::has_single_bit(static_cast<std::uint64_t>(**size)))
    return fail("bus.size", std::to_string(**size) + " is not a power of two");
  c.bus_size = static_cast<std::uint64_t>(**size);
  TRY_ASSIGN(channels, get_int(bus, "bus", "channels", 1, ringbus::kMaxChannels));
  if (*channels) c.channels = static_cast<std::uint32_t>(**channels);
  const std::int64_t min = std::int64_t{1} << ringbus::kMinRingLog2;
  const std::int64_t max = std::int64_t{1} << ringbus::kMaxRingLog2;
  TRY_ASSIGN(ring, get_pow2(bus, "bus", "ring_size", min, max));
  if (*ring) c.h2g_log2 = c.g2h_log2 = **ring;
  TRY_ASSIGN(h2g, get_pow2(bus, "bus", "h2g_ring_size", min, max));
  if (*h2g) c.h2g_log2 = **h2g;
  TRY_ASSIGN(g2h, get_pow2(bus, "bus", "g2h_ring_size", min, max));
  if (*g2h) c.g2h_log2 = **g2h;
  TRY_ASSIGN(pool, get_int(bus, "bus", "surface_pool", 0, std::int64_t{1} << 40));
  if (*pool) {
    c.surface_pool = static_cast<std::uint64_t>(**pool);
    if (c.surface_pool != 0 && c.channels < 2)
      return fail("bus.surface_pool", "surfaces need a channel of their own: set bus.channels to 2 or more");
  }
  auto need = ringbus::region_size_for(c.bus_config());
  if (!need) return fail("bus", ringbus::to_string(need.error()));
  if (*need > c.bus_size)
    return fail("bus.size", std::to_string(c.bus_size) + " bytes cannot hold " +
                                std::to_string(c.channels) + " channels of these ring sizes (" +
                                std::to_string(*need) + " bytes needed)");
  return {};
}

std::expected<void, ConfigError> parse_guest(const toml::table& guest, VmConfig& c) {
  if (auto r = only_keys(guest, "guest", {"rdp_target"}); !r) return r;
  TRY_ASSIGN(target, get_string(guest, "guest", "rdp_target"));
  if (!*target) return {};
  const std::string& t = **target;
  if (t.starts_with("tcp:")) {
    const std::string port = t.substr(4);
    int value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535)
      return fail("guest.rdp_target", "\"" + t + "\": tcp:PORT needs a port in 1..65535");
  } else if (t.starts_with("unix:")) {
    if (t.size() < 7 || t[5] != '/' || t.size() > 5 + 107)
      return fail("guest.rdp_target", "\"" + t + "\": unix:PATH needs an absolute path under 108 bytes");
  } else {
    return fail("guest.rdp_target", "\"" + t + "\": expected tcp:PORT or unix:/PATH");
  }
  c.rdp_target = t;
  return {};
}

std::expected<std::filesystem::path, ConfigError> required_file(const toml::table& vm,
                                                                std::string_view key,
                                                                const std::filesystem::path& base) {
  TRY_ASSIGN(s, get_string(vm, "vm", key));
  if (!*s) return fail(join("vm", key), "missing (needed by this backend)");
  if (s->value().empty()) return fail(join("vm", key), "is empty");
  std::filesystem::path p = resolve(base, **s);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(p, ec))
    return fail(join("vm", key), "\"" + p.string() + "\" does not exist or is not a regular file");
  return p;
}

constexpr std::size_t kMaxForwards = 16;

// "" when `text` is a dotted IPv4 address (or empty: QEMU's default); else why not.
std::string check_ipv4(std::string_view text, std::string_view which) {
  if (text.empty()) return {};
  in_addr a{};
  if (text.size() > 15 || ::inet_pton(AF_INET, std::string(text).c_str(), &a) != 1)
    return std::string(which) + " address \"" + std::string(text) + "\" is not a dotted IPv4 address";
  return {};
}

// "" when `text` is a port 1..65535 in decimal; else why not.
std::string check_port(std::string_view text, std::string_view which) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 1 || value > 65535)
    return std::string(which) + " port \"" + std::string(text) + "\" is not in 1..65535";
  return {};
}

// QEMU's hostfwd grammar (docs: -netdev user,hostfwd=), restricted to what we can check:
// tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT with IPv4 addresses and no port ranges.
// The rule is pasted into QEMU's option string, so anything outside the grammar (a comma above
// all: it would start another option) must be refused here. Returns "" or why not.
std::string check_hostfwd(std::string_view rule) {
  const auto colon = rule.find(':');
  if (colon == std::string_view::npos) return "expected tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT";
  const std::string_view proto = rule.substr(0, colon);
  if (proto != "tcp" && proto != "udp") return "protocol \"" + std::string(proto) + "\" is not tcp or udp";
  const std::string_view rest = rule.substr(colon + 1);
  const auto dash = rest.find('-');
  if (dash == std::string_view::npos || rest.find('-', dash + 1) != std::string_view::npos)
    return "expected one '-' between HOSTADDR:HOSTPORT and GUESTADDR:GUESTPORT";
  const auto side = [](std::string_view s, std::string_view which) -> std::string {
    const auto c = s.find(':');
    if (c == std::string_view::npos || s.find(':', c + 1) != std::string_view::npos)
      return std::string(which) + " part \"" + std::string(s) + "\" is not [ADDR]:PORT";
    if (auto e = check_ipv4(s.substr(0, c), which); !e.empty()) return e;
    return check_port(s.substr(c + 1), which);
  };
  if (auto e = side(rest.substr(0, dash), "host"); !e.empty()) return e;
  return side(rest.substr(dash + 1), "guest");
}

std::expected<void, ConfigError> parse_vm(const toml::table* vm, VmConfig& c,
                                          const std::filesystem::path& base) {
  if (vm == nullptr) return fail("vm", "missing table [vm] (the " + std::string(backend_name(c.backend)) +
                                           " backend needs a kernel and an initramfs)");
  if (auto r = only_keys(*vm, "vm", {"kernel", "initramfs", "cmdline", "memory_mib", "vcpus", "accel",
                                     "doorbell", "qemu", "user_net", "user_net_forward", "progress_timeout"});
      !r)
    return r;
  TRY_ASSIGN(kernel, required_file(*vm, "kernel", base));
  c.kernel = *kernel;
  TRY_ASSIGN(initramfs, required_file(*vm, "initramfs", base));
  c.initramfs = *initramfs;
  TRY_ASSIGN(cmdline, get_string(*vm, "vm", "cmdline"));
  if (*cmdline) {
    if ((*cmdline)->size() > 2048) return fail("vm.cmdline", "longer than 2048 bytes");
    c.cmdline = **cmdline;
  }
  TRY_ASSIGN(mem, get_int(*vm, "vm", "memory_mib", 64, 65536));
  if (*mem) c.memory_mib = static_cast<std::uint32_t>(**mem);
  TRY_ASSIGN(vcpus, get_int(*vm, "vm", "vcpus", 1, 64));
  if (*vcpus) c.vcpus = static_cast<std::uint32_t>(**vcpus);
  TRY_ASSIGN(accel, get_enum<Accel>(*vm, "vm", "accel",
                                    {{"auto", Accel::kAuto}, {"kvm", Accel::kKvm}, {"tcg", Accel::kTcg}}));
  if (*accel) c.accel = **accel;
  TRY_ASSIGN(doorbell, get_enum<DoorbellMode>(*vm, "vm", "doorbell",
                                              {{"ivshmem-doorbell", DoorbellMode::kIvshmemDoorbell},
                                               {"ivshmem-plain", DoorbellMode::kIvshmemPlain}}));
  if (*doorbell) c.doorbell = **doorbell;
  TRY_ASSIGN(qemu, get_string(*vm, "vm", "qemu"));
  if (*qemu) {
    if ((*qemu)->empty()) return fail("vm.qemu", "is empty");
    c.qemu_binary = **qemu;
  }
  TRY_ASSIGN(progress, get_int(*vm, "vm", "progress_timeout", 0, 86400));
  if (*progress) c.progress_timeout_s = static_cast<std::uint32_t>(**progress);
  TRY_ASSIGN(user_net, get_bool(*vm, "vm", "user_net"));
  if (*user_net) c.user_net = **user_net;
  if (const toml::node* fwd = vm->get("user_net_forward")) {
    if (!fwd->is_array())
      return fail("vm.user_net_forward", std::string("must be an array of strings, not ") + std::string(type_name(*fwd)));
    const toml::array& rules = *fwd->as_array();
    if (rules.size() > kMaxForwards)
      return fail("vm.user_net_forward", std::to_string(rules.size()) + " rules (at most " +
                                             std::to_string(kMaxForwards) + ")");
    if (!rules.empty() && !c.user_net)
      return fail("vm.user_net_forward", "needs user_net = true (the forwards go to the user network)");
    for (std::size_t i = 0; i < rules.size(); ++i) {
      const std::string field = "vm.user_net_forward[" + std::to_string(i) + "]";
      if (!rules[i].is_string()) return fail(field, "must be a string");
      const std::string& rule = rules[i].as_string()->get();
      if (auto why = check_hostfwd(rule); !why.empty()) return fail(field, "\"" + rule + "\": " + why);
      c.user_net_forwards.push_back(rule);
    }
  }
  return {};
}

std::expected<void, ConfigError> parse_sandbox(const toml::table* sb, VmConfig& c) {
  if (sb == nullptr) return fail("sandbox", "missing table [sandbox] with at least one [[sandbox.program]]");
  if (auto r = only_keys(*sb, "sandbox", {"hostname", "program"}); !r) return r;
  TRY_ASSIGN(hostname, get_string(*sb, "sandbox", "hostname"));
  if (*hostname) {
    if ((*hostname)->empty() || (*hostname)->size() > 64 || !valid_name(**hostname))
      return fail("sandbox.hostname", "\"" + **hostname + "\" is not a valid host name");
    c.hostname = **hostname;
  }
  const toml::node* progs = sb->get("program");
  if (progs == nullptr) return fail("sandbox.program", "missing: at least one [[sandbox.program]]");
  if (!progs->is_array_of_tables())
    return fail("sandbox.program", "must be an array of tables ([[sandbox.program]])");
  const toml::array& arr = *progs->as_array();
  if (arr.empty()) return fail("sandbox.program", "is empty: at least one program");
  std::set<std::string> names;
  for (std::size_t i = 0; i < arr.size(); ++i) {
    const std::string prefix = "sandbox.program[" + std::to_string(i) + "]";
    const toml::table& p = *arr[i].as_table();
    if (auto r = only_keys(p, prefix, {"name", "command", "restart"}); !r) return r;
    SandboxProgram prog;
    TRY_ASSIGN(name, get_string(p, prefix, "name"));
    if (!*name) return fail(prefix + ".name", "missing");
    if (!valid_name(**name)) return fail(prefix + ".name", "\"" + **name + "\" must match [a-zA-Z0-9._-]{1,64}");
    if (!names.insert(**name).second) return fail(prefix + ".name", "\"" + **name + "\" is used twice");
    prog.name = **name;
    const toml::node* cmd = p.get("command");
    if (cmd == nullptr) return fail(prefix + ".command", "missing (an array of strings: argv)");
    if (!cmd->is_array()) return fail(prefix + ".command", std::string("must be an array of strings, not ") +
                                                               std::string(type_name(*cmd)));
    const toml::array& argv = *cmd->as_array();
    if (argv.empty()) return fail(prefix + ".command", "is empty");
    for (std::size_t j = 0; j < argv.size(); ++j) {
      if (!argv[j].is_string())
        return fail(prefix + ".command[" + std::to_string(j) + "]", "must be a string");
      prog.command.push_back(argv[j].as_string()->get());
    }
    if (prog.command[0].empty()) return fail(prefix + ".command[0]", "is empty");
    TRY_ASSIGN(restart, get_enum<RestartPolicy>(p, prefix, "restart",
                                                {{"never", RestartPolicy::kNever},
                                                 {"on-failure", RestartPolicy::kOnFailure},
                                                 {"always", RestartPolicy::kAlways}}));
    if (*restart) prog.restart = **restart;
    c.programs.push_back(std::move(prog));
  }
  return {};
}

// "#RRGGBB" -> 0xRRGGBB.
std::optional<std::uint32_t> parse_rgb(std::string_view text) {
  if (text.size() != 7 || text[0] != '#') return std::nullopt;
  std::uint32_t v = 0;
  for (char c : text.substr(1)) {
    const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return std::nullopt;
    v = (v << 4) | static_cast<std::uint32_t>(d);
  }
  return v;
}

// A title prefix is shown on the host as it is: no C0/C1 control characters or DEL.
bool printable(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return false;
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(s[i + 1]) <= 0x9F)
      return false;
  }
  return true;
}

std::expected<void, ConfigError> parse_display(const toml::table& display, VmConfig& c) {
  if (auto r = only_keys(display, "display", {"label_colour", "title_prefix", "border_px"}); !r) return r;
  TRY_ASSIGN(colour, get_string(display, "display", "label_colour"));
  if (*colour) {
    const auto rgb = parse_rgb(**colour);
    if (!rgb) return fail("display.label_colour", "\"" + **colour + "\" is not a colour #RRGGBB");
    c.display.label_rgb = *rgb;
  }
  TRY_ASSIGN(prefix, get_string(display, "display", "title_prefix"));
  if (*prefix) {
    if ((*prefix)->size() > DisplayLabel::kMaxPrefixBytes)
      return fail("display.title_prefix", "longer than " + std::to_string(DisplayLabel::kMaxPrefixBytes) + " bytes");
    if (!printable(**prefix)) return fail("display.title_prefix", "contains control characters");
    c.display.title_prefix = **prefix;
  }
  TRY_ASSIGN(border, get_int(display, "display", "border_px", 0, DisplayLabel::kMaxBorderPx));
  if (*border) c.display.border_px = static_cast<std::int32_t>(**border);
  return {};
}

}  // namespace

std::uint32_t default_label_rgb(std::string_view vm_name) {
  // Tango-like hues far apart from each other (and from black and white window content).
  static constexpr std::uint32_t kPalette[8] = {0xcc0000, 0xf57900, 0xedd400, 0x73d216,
                                                0x06989a, 0x3465a4, 0x75507b, 0xc17d11};
  std::uint32_t h = 2166136261u;  // FNV-1a
  for (char ch : vm_name) h = (h ^ static_cast<unsigned char>(ch)) * 16777619u;
  return kPalette[h % 8];
}

std::string_view backend_name(BackendKind kind) {
  switch (kind) {
    case BackendKind::kSandbox: return "sandbox";
    case BackendKind::kQemu: return "qemu";
    case BackendKind::kKvm: return "kvm";
  }
  return "?";
}

std::string_view restart_name(RestartPolicy policy) {
  switch (policy) {
    case RestartPolicy::kNever: return "never";
    case RestartPolicy::kOnFailure: return "on-failure";
    case RestartPolicy::kAlways: return "always";
  }
  return "?";
}

std::string ConfigError::to_string() const {
  return field.empty() ? message : field + ": " + message;
}

ringbus::BusConfig VmConfig::bus_config() const {
  ringbus::BusConfig b = ringbus::BusConfig::uniform(channels, h2g_log2, g2h_log2);
  b.name = "vitrine-bus-" + name;
  b.surface_pool_bytes = surface_pool;
  return b;
}

std::expected<VmConfig, ConfigError> parse_vm_config(std::string_view text,
                                                     const std::filesystem::path& base_dir) {
  toml::table root;
  try {
    root = toml::parse(text);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << "TOML syntax error at line " << e.source().begin.line << ", column "
        << e.source().begin.column << ": " << e.description();
    return fail("", msg.str());
  }
  VmConfig c;
  if (auto r = only_keys(root, "", {"name", "backend", "log_dir", "bus", "guest", "display", "vm", "sandbox"}); !r)
    return Fail(r.error());
  TRY_ASSIGN(name, get_string(root, "", "name"));
  if (*name) {
    if (!valid_name(**name)) return fail("name", "\"" + **name + "\" must match [a-zA-Z0-9._-]{1,64}");
    c.name = **name;
  }
  c.display = DisplayLabel{default_label_rgb(c.name), "[" + c.name + "] ", 2};
  TRY_ASSIGN(display, get_table(root, "", "display"));
  if (*display != nullptr)
    if (auto r = parse_display(**display, c); !r) return Fail(r.error());
  TRY_ASSIGN(backend, get_enum<BackendKind>(root, "", "backend",
                                            {{"sandbox", BackendKind::kSandbox},
                                             {"qemu", BackendKind::kQemu},
                                             {"kvm", BackendKind::kKvm}}));
  if (!*backend) return fail("backend", "missing (sandbox, qemu or kvm)");
  c.backend = **backend;
  TRY_ASSIGN(log_dir, get_string(root, "", "log_dir"));
  if (*log_dir) {
    if ((*log_dir)->empty()) return fail("log_dir", "is empty");
    c.log_dir = resolve(base_dir, **log_dir);
  }

  TRY_ASSIGN(bus, get_table(root, "", "bus"));
  if (*bus == nullptr) return fail("bus", "missing table [bus] (size, channels, ring_size)");
  if (auto r = parse_bus(**bus, c); !r) return Fail(r.error());
  TRY_ASSIGN(guest, get_table(root, "", "guest"));
  if (*guest != nullptr)
    if (auto r = parse_guest(**guest, c); !r) return Fail(r.error());
  TRY_ASSIGN(vm, get_table(root, "", "vm"));
  TRY_ASSIGN(sandbox, get_table(root, "", "sandbox"));
  if (c.backend == BackendKind::kSandbox) {
    if (*vm != nullptr) return fail("vm", "only for the qemu and kvm backends (backend = \"sandbox\")");
    if (auto r = parse_sandbox(*sandbox, c); !r) return Fail(r.error());
  } else {
    if (*sandbox != nullptr) return fail("sandbox", "only for the sandbox backend");
    if (auto r = parse_vm(*vm, c, base_dir); !r) return Fail(r.error());
  }
  return c;
}

std::expected<VmConfig, ConfigError> load_vm_config(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail("", "cannot read " + file.string());
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > (1u << 20)) return fail("", file.string() + ": larger than 1 MiB");
  std::error_code ec;
  auto base = std::filesystem::absolute(file, ec).parent_path();
  return parse_vm_config(text.str(), base);
}

}  // namespace vitrine::hv
