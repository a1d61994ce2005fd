// The main thread's event loop: a handler that throws is reported, and the
// loop goes on until it is stopped.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <stdexcept>

#include "dm/event_loop.hpp"

namespace acrn::dm {
namespace {

TEST(EventLoopTest, AThrowingHandlerIsReportedAndTheLoopGoesOn) {
    boost::asio::io_context loop;
    std::vector<std::string> reasons;
    bool later_ran = false;
    boost::asio::post(loop, [] { throw std::runtime_error("timer handler broke"); });
    boost::asio::post(loop, [&] { later_ran = true; });
    run_event_loop(loop, [&](const std::string& reason) { reasons.push_back(reason); });
    ASSERT_EQ(reasons.size(), 1u);
    EXPECT_NE(reasons[0].find("timer handler broke"), std::string::npos);
    EXPECT_TRUE(later_ran);
}

TEST(EventLoopTest, TheFatalHandlerStopsTheLoop) {
    boost::asio::io_context loop;
    bool later_ran = false;
    boost::asio::post(loop, [] { throw 42; });
    boost::asio::post(loop, [&] { later_ran = true; });
    int reports = 0;
    run_event_loop(loop, [&](const std::string&) {
        ++reports;
        loop.stop();  // what request_power_off does
    });
    EXPECT_EQ(reports, 1);
    EXPECT_FALSE(later_ran);
}

}  // namespace
}  // namespace acrn::dm
