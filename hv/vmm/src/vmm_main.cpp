// vitrine-vmm: owns one VM's life (start, stop, crash detection, logs) in its own process, so
// that device emulation and guest-facing parsing never share an address space with the
// user's display. Started by vitrine with a control socket (see vmm_client.hpp).
//
//   vitrine-vmm --config vm.toml --control-fd 3 [--log-dir DIR] [--sandbox-init PATH] [--kvm-program PATH]
//               [--backend sandbox|qemu|kvm]
//   vitrine-vmm --config vm.toml --check      validate the config and exit (0 ok, 2 bad)
#include <CLI/CLI.hpp>

#include "vitrine/base/log.hpp"
#include "vmm.hpp"

int main(int argc, char** argv) {
  vitrine::base::set_program_name("vitrine-vmm");
  CLI::App app{"vitrine-vmm: runs one Vitrine VM (sandbox, qemu or kvm backend) on a bus handed over by vitrine"};
  vitrine::hv::VmmOptions o;
  bool check = false;
  app.add_option("--config", o.config_path, "VM configuration (TOML)")->required();
  app.add_option("--control-fd", o.control_fd, "inherited SOCK_SEQPACKET control socket");
  app.add_option("--log-dir", o.log_dir, "where the VM's logs go (overrides log_dir of the config)");
  app.add_option("--sandbox-init", o.sandbox_init, "path of vitrine-sandbox-init");
  app.add_option("--kvm-program", o.kvm_program, "path of vitrine-kvm (kvm backend; default: next to vitrine-vmm)");
  app.add_option("--backend", o.backend, "run this backend instead of the config's (sandbox, qemu, kvm)");
  bool no_lock_down = false;
  app.add_flag("--no-lock-down", no_lock_down,
               "keep every system call once the VM runs (no seccomp filter, no no_new_privs): for debugging");
  app.add_flag("--check", check, "validate the configuration and exit");
  CLI11_PARSE(app, argc, argv);
  o.lock_down = !no_lock_down;
  if (check) return vitrine::hv::check_config(o.config_path, o.backend);
  if (o.control_fd < 0) {
    vitrine::base::log_error("--control-fd is required (vitrine starts the vmm; try --check)");
    return 2;
  }
  return vitrine::hv::run_vmm(o);
}
