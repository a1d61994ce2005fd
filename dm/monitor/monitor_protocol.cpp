#include "dm/monitor/monitor_protocol.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "dm/cli/option_values.hpp"

namespace acrn::dm {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxArguments = 319;  // ACRN's limit
constexpr std::chrono::seconds kDefaultPowerOffDeadline{60};
constexpr std::chrono::seconds kLongestPowerOffDeadline{3600};

std::string reply(const json& body) { return body.dump() + "\n"; }

std::string failure(const std::string& error) { return reply(json{{"ack", -1}, {"error", error}}); }

// "poweroff" takes its deadline in seconds as its arguments ("" for the default).
std::chrono::seconds power_off_deadline(const std::string& arguments) {
    if (arguments.empty()) {
        return kDefaultPowerOffDeadline;
    }
    if (arguments.size() > 4 || !std::all_of(arguments.begin(), arguments.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        throw MonitorError("poweroff: the arguments are the seconds the guest has to shut down (1 to 3600), not '" +
                           arguments + "'");
    }
    const std::chrono::seconds deadline{std::stoi(arguments)};
    if (deadline < std::chrono::seconds(1) || deadline > kLongestPowerOffDeadline) {
        throw MonitorError("poweroff: the deadline must be 1 to 3600 s, not " + arguments);
    }
    return deadline;
}

// "blkrescan" takes "<slot>,<path>", the slot as -s writes it ([bus:]slot[:func]).
json blkrescan(MonitorTarget& target, const std::string& arguments) {
    static const std::string kSyntax = " (arguments: \"<slot>,<path>\", the slot as -s gives it)";
    const std::size_t comma = arguments.find(',');
    if (comma == std::string::npos) {
        throw MonitorError("blkrescan: no image path in '" + arguments + "'" + kSyntax);
    }
    const std::string address = arguments.substr(0, comma);
    const std::string path = arguments.substr(comma + 1);
    PciSlotSpec slot;
    if (const std::string error = cli::parse_pci_address(address, slot); !error.empty()) {
        throw MonitorError("blkrescan: " + error + kSyntax);
    }
    if (path.empty() || path == "nodisk") {
        throw MonitorError("blkrescan: '" + path + "' is not an image path" + kSyntax);
    }
    const PciAddress pci{slot.bus, slot.slot, slot.func};
    target.blkrescan(pci, path);
    return json{{"slot", pci.text()}, {"path", path}};
}

using Command = std::function<json(MonitorTarget&, MonitorConnection&, const std::string& arguments)>;

const std::map<std::string_view, Command>& command_table() {
    static const std::map<std::string_view, Command> table = {
        {"destroy", [](MonitorTarget& t, MonitorConnection&, const std::string&) { t.destroy(); return json::object(); }},
        {"poweroff",
         [](MonitorTarget& t, MonitorConnection&, const std::string& arguments) {
             const std::chrono::seconds deadline = power_off_deadline(arguments);
             t.power_off(deadline);
             return json{{"deadline_s", deadline.count()}};
         }},
        {"pause", [](MonitorTarget& t, MonitorConnection&, const std::string&) { t.pause(); return json::object(); }},
        {"resume", [](MonitorTarget& t, MonitorConnection&, const std::string&) { t.resume(); return json::object(); }},
        {"suspend", [](MonitorTarget& t, MonitorConnection&, const std::string&) { t.suspend(); return json::object(); }},
        {"reset", [](MonitorTarget& t, MonitorConnection&, const std::string&) { t.reset(); return json::object(); }},
        {"query", [](MonitorTarget& t, MonitorConnection&, const std::string&) { return json{{"vm", t.query()}}; }},
        {"stats", [](MonitorTarget& t, MonitorConnection&, const std::string&) { return json{{"stats", t.stats()}}; }},
        {"blkrescan",
         [](MonitorTarget& t, MonitorConnection&, const std::string& arguments) { return blkrescan(t, arguments); }},
        {"register_vm_event_client",
         [](MonitorTarget&, MonitorConnection& connection, const std::string&) {
             connection.take_vm_events();
             return json::object();
         }},
    };
    return table;
}

}  // namespace

const std::vector<std::string_view>& monitor_commands() {
    static const std::vector<std::string_view> names = [] {
        std::vector<std::string_view> out;
        for (const auto& [name, command] : command_table()) {
            out.push_back(name);
        }
        return out;
    }();
    return names;
}

std::string oversized_reply() {
    return failure("request longer than " + std::to_string(RequestFramer::kMaxRequest) + " bytes: ignored");
}

std::string answer_request(std::string_view request, MonitorTarget& target, MonitorConnection& connection) {
    const json parsed = json::parse(request.begin(), request.end(), nullptr, false);
    if (parsed.is_discarded()) {
        return failure("not JSON: a request is {\"command\": \"...\", \"arguments\": \"...\"}");
    }
    if (!parsed.is_object() || !parsed.contains("command") || !parsed["command"].is_string()) {
        return failure("no \"command\": a request is {\"command\": \"...\", \"arguments\": \"...\"}");
    }
    std::string arguments;
    if (const auto found = parsed.find("arguments"); found != parsed.end() && !found->is_null()) {
        if (!found->is_string()) {
            return failure("\"arguments\" must be a string");
        }
        arguments = found->get<std::string>();
        if (arguments.size() > kMaxArguments) {
            return failure("\"arguments\" longer than " + std::to_string(kMaxArguments) + " characters");
        }
    }
    const std::string name = parsed["command"].get<std::string>();
    const auto command = command_table().find(name);
    if (command == command_table().end()) {
        std::string known;
        for (const std::string_view known_name : monitor_commands()) {
            known += (known.empty() ? "" : ", ") + std::string(known_name);
        }
        return failure("unknown command '" + name + "' (commands: " + known + ")");
    }
    try {
        json body = command->second(target, connection, arguments);
        json out{{"ack", 0}};
        out.update(body);
        return reply(out);
    } catch (const MonitorError& error) {
        return failure(error.what());
    } catch (const std::exception& error) {
        return failure(name + " failed: " + error.what());
    }
}

std::vector<RequestFramer::Request> RequestFramer::feed(std::string_view bytes) {
    std::vector<Request> requests;
    for (;;) {
        const std::size_t newline = bytes.find('\n');
        const std::string_view piece = bytes.substr(0, newline);
        if (discarding_) {
            if (newline == std::string_view::npos) {
                return requests;
            }
            discarding_ = false;
        } else if (pending_.size() + piece.size() > kMaxRequest) {
            requests.push_back(Request{{}, true});
            pending_.clear();
            discarding_ = newline == std::string_view::npos;
            if (discarding_) {
                return requests;
            }
        } else {
            pending_.append(piece);
            if (newline == std::string_view::npos) {
                // ACRN's clients send one undelimited object a message; only
                // text that ends an object can be one (and parsing each
                // piece of a long line would cost its length squared).
                const std::size_t last = pending_.find_last_not_of(" \t\r");
                if (last != std::string::npos && pending_[last] == '}' && nlohmann::json::accept(pending_)) {
                    requests.push_back(Request{std::move(pending_), false});
                    pending_.clear();
                }
                return requests;
            }
            if (!pending_.empty() && pending_.back() == '\r') {
                pending_.pop_back();
            }
            if (pending_.find_first_not_of(" \t") != std::string::npos) {
                requests.push_back(Request{std::move(pending_), false});
            }
            pending_.clear();
        }
        bytes.remove_prefix(newline + 1);
    }
}

}  // namespace acrn::dm
