#include "dm/machine/launch_check.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "common/unique_fd.hpp"
#include "dm/backends/block_backend.hpp"
#include "dm/host_cpus.hpp"
#include "dm/machine/boot_images.hpp"
#include "dm/machine/startup_error.hpp"
#include "dm/virtio/virtio_console.hpp"
#include "dm/virtio/virtio_net_options.hpp"

namespace acrn::dm {
namespace {

std::string why() { return std::strerror(errno); }

std::string parent_of(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) {
        return ".";
    }
    return slash == 0 ? "/" : path.substr(0, slash);
}

// What the kernel's /proc/meminfo says of `field`, in bytes (0 if absent).
std::uint64_t meminfo_bytes(const std::string& field) {
    std::ifstream meminfo("/proc/meminfo");
    std::string name, unit;
    std::uint64_t value = 0;
    while (meminfo >> name >> value) {
        std::getline(meminfo, unit);
        if (name == field + ":") {
            return unit.find("kB") != std::string::npos ? value << 10 : value;
        }
    }
    return 0;
}

class Checker {
public:
    explicit Checker(LaunchCheck& out) : out_(out) {}

    void problem(const std::string& what) { out_.problems.push_back(what); }
    void note(const std::string& what) { out_.notes.push_back(what); }

    // A file the back end appends to: it or its folder writable.
    void writable_file(const std::string& who, const std::string& path) {
        if (::access(path.c_str(), F_OK) == 0) {
            if (::access(path.c_str(), W_OK) != 0) {
                problem(who + ": cannot write " + path + ": " + why());
            }
        } else if (::access(parent_of(path).c_str(), W_OK | X_OK) != 0) {
            problem(who + ": cannot create " + path + " (folder " + parent_of(path) + ": " + why() + ")");
        }
    }

    void char_backend(const std::string& who, const SerialBackendSpec& backend) {
        struct stat info {};
        switch (backend.kind) {
            case SerialBackendSpec::Kind::file: writable_file(who, backend.path); break;
            case SerialBackendSpec::Kind::tty:
                if (::stat(backend.path.c_str(), &info) != 0) {
                    problem(who + ": " + backend.path + ": " + why());
                } else if (!S_ISCHR(info.st_mode)) {
                    problem(who + ": " + backend.path + " is not a terminal device");
                } else if (::access(backend.path.c_str(), R_OK | W_OK) != 0) {
                    problem(who + ": cannot open " + backend.path + " for reading and writing: " + why());
                }
                break;
            case SerialBackendSpec::Kind::tcp: tcp_port(who, backend.port); break;
            case SerialBackendSpec::Kind::unix_socket:
                if (backend.server) {
                    unix_socket_path(who, backend.path);
                } else if (::stat(backend.path.c_str(), &info) != 0 || !S_ISSOCK(info.st_mode)) {
                    problem(who + ": no socket to connect to at " + backend.path);
                }
                break;
            case SerialBackendSpec::Kind::pty:
                if (::access("/dev/ptmx", R_OK | W_OK) != 0) {
                    problem(who + ": no pseudo-terminals (/dev/ptmx: " + why() + ")");
                }
                break;
            case SerialBackendSpec::Kind::none:
            case SerialBackendSpec::Kind::stdio: break;
        }
    }

    void tcp_port(const std::string& who, std::uint16_t port) {
        UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        int reuse = 1;
        (void)::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
            problem(who + ": cannot listen on 127.0.0.1:" + std::to_string(port) + ": " + why());
        }
    }

    // A socket acrn-dm would listen on: the folder there, nothing but a stale socket in the way.
    void unix_socket_path(const std::string& who, const std::string& path) {
        if (path.size() >= sizeof(sockaddr_un::sun_path)) {
            problem(who + ": " + path + " is too long for a Unix socket (at most " +
                    std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes)");
            return;
        }
        struct stat info {};
        if (::lstat(path.c_str(), &info) == 0 && !S_ISSOCK(info.st_mode)) {
            problem(who + ": " + path + " exists and is not a socket");
        } else if (::access(parent_of(path).c_str(), W_OK | X_OK) != 0) {
            problem(who + ": cannot make a socket in " + parent_of(path) + ": " + why());
        }
    }

    void disk(const std::string& who, const std::string& config) {
        const BlockOptions options = parse_block_options(config);  // checked when the command line was read
        if (!options.path) {
            return;  // nodisk
        }
        struct stat info {};
        const std::string& path = *options.path;
        if (::stat(path.c_str(), &info) != 0) {
            problem(who + ": " + path + ": " + why());
        } else if (!S_ISREG(info.st_mode) && !S_ISBLK(info.st_mode)) {
            problem(who + ": " + path + " is neither a file nor a block device");
        } else if (::access(path.c_str(), R_OK) != 0) {
            problem(who + ": cannot read " + path + ": " + why());
        } else if (!options.read_only && ::access(path.c_str(), W_OK) != 0) {
            note(who + ": " + path + " is not writable: the guest will get it read-only");
        }
    }

    void network(const std::string& who, const std::string& config) {
        const NetOptions options = parse_net_options(config);
        if (::access("/dev/net/tun", R_OK | W_OK) != 0) {
            problem(who + ": no tap devices (/dev/net/tun: " + why() + ")");
        }
        if (options.vhost && ::access("/dev/vhost-net", R_OK | W_OK) != 0) {
            note(who + ": no /dev/vhost-net (" + why() + "): frames will be moved in user space");
        }
    }

    void console(const std::string& who, const std::string& config) {
        for (const ConsolePortSpec& port : parse_console_ports(config)) {
            char_backend(who + " port " + port.name, port.backend);
        }
    }

private:
    LaunchCheck& out_;
};

}  // namespace

LaunchCheck check_launch(const DmOptions& options) {
    LaunchCheck result;
    Checker check(result);
    try {
        // Host decompression never stops a launch (it falls back to the
        // guest's), and a dry run writes no kernel cache.
        DmOptions images_only = options;
        images_only.kernel_host_decompress = false;
        (void)read_boot_images(images_only);
    } catch (const StartupError& error) {
        check.problem(error.what());
        // The initrd is checked only after the kernel it goes with: a
        // kernel's problem must not hide the initrd's.
        if (error.status() == kExitKernel && options.initrd) {
            try {
                (void)read_image_file(*options.initrd, "-r", kExitInitrd);
            } catch (const StartupError& initrd_error) {
                check.problem(initrd_error.what());
            }
        }
    }
    if (const UniqueFd kvm(::open("/dev/kvm", O_RDWR | O_CLOEXEC)); !kvm) {
        check.problem("no usable /dev/kvm (" + why() + "): a VM needs KVM");
    }
    const std::uint64_t host_memory = meminfo_bytes("MemTotal");
    if (host_memory != 0 && options.memory_bytes > host_memory) {
        check.problem("-m: " + std::to_string(options.memory_bytes >> 20) + " MiB is more than this host's " +
                      std::to_string(host_memory >> 20) + " MiB");
    }
    if (options.hugetlb) {
        const std::uint64_t free_pages = meminfo_bytes("HugePages_Free");
        const std::uint64_t needed = options.memory_bytes >> 21;
        if (free_pages < needed) {
            check.problem("--hugetlb: " + std::to_string(needed) + " free 2 MiB huge pages needed, the pool has " +
                          std::to_string(free_pages) + " (vm.nr_hugepages)");
        }
    }
    if (!options.cpu_affinity.empty()) {
        try {
            const auto cpus = host_cpus_by_apic_id();
            for (const std::uint32_t id : options.cpu_affinity) {
                if (cpus.count(id) == 0) {
                    check.problem("--cpu_affinity: no online host CPU has LAPIC id " + std::to_string(id));
                }
            }
        } catch (const std::exception& error) {
            check.problem(std::string("--cpu_affinity: ") + error.what());
        }
    }
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (::sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
        for (const int cpu : options.dm_cpus) {
            if (cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &allowed)) {
                check.problem("--dm_cpus: host CPU " + std::to_string(cpu) + " is not online or not allowed to acrn-dm");
            }
        }
    }
    if (options.cmd_monitor) {
        check.unix_socket_path("--cmd_monitor", *options.cmd_monitor);
    }
    for (const SerialPortSpec& port : options.serial_ports) {
        check.char_backend("-l com" + std::to_string(port.index), port.backend);
    }
    for (const PciSlotSpec& slot : options.pci_slots) {
        const std::string who = "-s " + std::to_string(slot.slot) + "," + slot.emulation;
        try {
            if (slot.emulation == "virtio-blk") {
                check.disk(who, slot.config);
            } else if (slot.emulation == "virtio-net") {
                check.network(who, slot.config);
            } else if (slot.emulation == "virtio-console") {
                check.console(who, slot.config);
            }
        } catch (const std::invalid_argument& error) {
            check.problem(who + ": " + error.what());
        }
    }
    return result;
}

}  // namespace acrn::dm
