#include "dm/huge_tmpfs_file.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include "common/system_error.hpp"

namespace acrn::dm {
namespace {

// Where the child mounts its tmpfs: any directory does, in its own mount
// namespace nothing else sees it.
constexpr const char* kMountPoint = "/tmp";

// The steps the child takes, and what it sends back when one fails.
enum class Step : int { unshare = 1, make_private, mount, open, size, send };

const char* step_name(Step step) {
    switch (step) {
    case Step::unshare: return "unshare(CLONE_NEWNS)";
    case Step::make_private: return "making the child's mounts private";
    case Step::mount: return "mounting a tmpfs with huge=within_size";
    case Step::open: return "creating the file on the tmpfs";
    case Step::size: return "sizing the file";
    case Step::send: return "handing the file to acrn-dm";
    }
    return "?";
}

struct Failure {
    Step step;
    int err;
};

// The child: system calls only (another thread of the parent may have held
// malloc's lock at fork()), and _exit.
[[noreturn]] void child(int socket, const char* mount_options, std::uint64_t size) {
    auto fail = [socket](Step step) {
        const Failure failure{step, errno};
        (void)::send(socket, &failure, sizeof failure, MSG_NOSIGNAL);
        ::_exit(1);
    };
    if (::unshare(CLONE_NEWNS) != 0) {
        fail(Step::unshare);
    }
    // Nothing mounted here reaches the host's namespace.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        fail(Step::make_private);
    }
    if (::mount("acrn-guest-ram", kMountPoint, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, mount_options) != 0) {
        fail(Step::mount);
    }
    const int fd = ::open(kMountPoint, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
        fail(Step::open);
    }
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
        fail(Step::size);
    }
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int))> control{};
    const Failure none{Step{}, 0};
    iovec payload{const_cast<Failure*>(&none), sizeof none};
    msghdr message{};
    message.msg_iov = &payload;
    message.msg_iovlen = 1;
    message.msg_control = control.data();
    message.msg_controllen = control.size();
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(header), &fd, sizeof fd);
    if (::sendmsg(socket, &message, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof none)) {
        fail(Step::send);
    }
    ::_exit(0);
}

// Receives the child's answer: the file, or the step that failed.
UniqueFd receive_file(int socket) {
    Failure failure{};
    iovec payload{&failure, sizeof failure};
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int))> control{};
    msghdr message{};
    message.msg_iov = &payload;
    message.msg_iovlen = 1;
    message.msg_control = control.data();
    message.msg_controllen = control.size();
    ssize_t got = 0;
    do {
        got = ::recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
    } while (got < 0 && errno == EINTR);
    if (got < 0) {
        throw_errno("huge-page tmpfs: reading the child's answer");
    }
    UniqueFd file;
    for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr; header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS) {
            int fd = -1;
            std::memcpy(&fd, CMSG_DATA(header), sizeof fd);
            file.reset(fd);
        }
    }
    if (got != static_cast<ssize_t>(sizeof failure)) {
        throw_errno("huge-page tmpfs: the child ended without an answer", EPROTO);
    }
    if (failure.step != Step{}) {
        throw_errno(std::string("huge-page tmpfs: ") + step_name(failure.step), failure.err);
    }
    if (!file) {
        throw_errno("huge-page tmpfs: the child's answer carried no file", EPROTO);
    }
    return file;
}

}  // namespace

UniqueFd open_huge_tmpfs_file(std::uint64_t size) {
    // Formatted before fork(): the child must not allocate.
    const std::string mount_options = "size=" + std::to_string(size) + ",huge=within_size,mode=0700";
    std::array<int, 2> sockets{};
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sockets.data()) != 0) {
        throw_errno("huge-page tmpfs: socketpair");
    }
    UniqueFd ours(sockets[0]);
    UniqueFd theirs(sockets[1]);
    const pid_t pid = ::fork();
    if (pid < 0) {
        throw_errno("huge-page tmpfs: fork");
    }
    if (pid == 0) {
        child(theirs.get(), mount_options.c_str(), size);
    }
    theirs.reset();
    UniqueFd file;
    std::exception_ptr error;
    try {
        file = receive_file(ours.get());
    } catch (...) {
        error = std::current_exception();
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (error) {
        std::rethrow_exception(error);
    }
    return file;
}

}  // namespace acrn::dm
