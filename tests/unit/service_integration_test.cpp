// Running under systemd: the notifications a Type=notify unit waits for, and
// the journal detection, without systemd (a socket of our own stands in).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "common/unique_fd.hpp"
#include "dm/logging.hpp"
#include "dm/service_notify.hpp"

namespace acrn::dm {
namespace {

class NotifySocket {
public:
    NotifySocket() : path_("/tmp/acrn-notify-" + std::to_string(::getpid())) {
        fd_ = UniqueFd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        path_.copy(address.sun_path, sizeof(address.sun_path) - 1);
        ::unlink(path_.c_str());
        EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
        ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
    }
    ~NotifySocket() {
        ::unsetenv("NOTIFY_SOCKET");
        ::unlink(path_.c_str());
    }
    std::string next() {
        char buffer[1024];
        const ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, MSG_DONTWAIT);
        return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
    }

private:
    std::string path_;
    UniqueFd fd_;
};

TEST(ServiceIntegrationTest, SystemdHearsTheBootPhasesReadinessAndStopping) {
    NotifySocket systemd;
    notify_status("checking the boot images");
    EXPECT_EQ(systemd.next(), "STATUS=checking the boot images");
    notify_ready("VM 'vm1' running");
    EXPECT_EQ(systemd.next(), "READY=1\nSTATUS=VM 'vm1' running");
    notify_stopping("VM 'vm1' powering off:\nguest");
    EXPECT_EQ(systemd.next(), "STOPPING=1\nSTATUS=VM 'vm1' powering off: guest") << "a status stays one field";
}

TEST(ServiceIntegrationTest, WithoutSystemdNotifyingDoesNothing) {
    ::unsetenv("NOTIFY_SOCKET");
    notify_ready("VM 'vm1' running");  // no socket, no error, nothing to wait for
}

TEST(ServiceIntegrationTest, StderrIsTheJournalOnlyWhenJournalStreamNamesIt) {
    struct stat info {};
    ASSERT_EQ(::fstat(2, &info), 0);
    const std::string mine = std::to_string(info.st_dev) + ":" + std::to_string(info.st_ino);
    EXPECT_TRUE(stderr_is_journal(mine.c_str()));
    EXPECT_FALSE(stderr_is_journal((std::to_string(info.st_dev) + ":" + std::to_string(info.st_ino + 1)).c_str()))
        << "stderr redirected elsewhere by the service: log to it as usual";
    EXPECT_FALSE(stderr_is_journal(nullptr));
    EXPECT_FALSE(stderr_is_journal("garbage"));
}

TEST(ServiceIntegrationTest, NoticeAndInfoKeepTheirOwnPriorities) {
    EXPECT_EQ(journal_priority(LogLevel::error), 3);
    EXPECT_EQ(journal_priority(LogLevel::warning), 4);
    EXPECT_EQ(journal_priority(LogLevel::notice), 5);
    EXPECT_EQ(journal_priority(LogLevel::info), 6);
    EXPECT_EQ(journal_priority(LogLevel::debug), 7);
}

}  // namespace
}  // namespace acrn::dm
