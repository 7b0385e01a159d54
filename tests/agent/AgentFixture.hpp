#pragma once
// A real ptyx-agent for tests: started with fork/exec on 127.0.0.1 and a free port, a token
// made with `ptyx-agent token add`, and a minimal blocking HTTP/1.1 client on a raw socket
// (raw so that tests can send what a well-behaved library would normalise away, like "..").
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "mpi/MpiRuns.hpp"

namespace ptyx::agenttest {

using nlohmann::json;
using namespace ptyx::mpitest;

struct Reply {
  int status = 0;                              ///< 0: no answer (connection failed or closed early)
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;
  [[nodiscard]] json js() const { return json::parse(body, nullptr, false); }
};

inline std::string agentBin() {
  return env("PTYX_AGENT", "ptyx-agent");
}

/// One word for /bin/sh whatever it holds (data directories with metacharacters in tests).
inline std::string shellWord(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

inline int freePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t n = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  close(fd);
  return ntohs(a.sin_port);
}

/// One request on its own connection; reads until the agent closes it.
inline Reply request(int port, const std::string& method, const std::string& target,
                     const std::string& authorization, const std::string& body = "",
                     const std::vector<std::string>& extraHeaders = {}, bool sendBody = true,
                     const std::string& contentLength = "") {
  Reply reply;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{60, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return reply;
  }
  std::string head = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!authorization.empty()) head += "Authorization: " + authorization + "\r\n";
  for (const auto& h : extraHeaders) head += h + "\r\n";
  head +=
      "Content-Length: " + (contentLength.empty() ? std::to_string(body.size()) : contentLength) +
      "\r\n\r\n";
  std::string out = head + (sendBody ? body : "");
  for (std::size_t sent = 0; sent < out.size();) {
    const ssize_t n = send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the agent may answer (413) and close before the body is sent
    sent += static_cast<std::size_t>(n);
  }
  std::string in;
  char buffer[65536];
  for (;;) {
    const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    in.append(buffer, static_cast<std::size_t>(n));
  }
  close(fd);
  const auto end = in.find("\r\n\r\n");
  if (end == std::string::npos || in.compare(0, 9, "HTTP/1.1 ") != 0) return reply;
  reply.status = std::atoi(in.c_str() + 9);
  std::istringstream lines(in.substr(0, end));
  std::string line;
  std::getline(lines, line);
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    reply.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
  }
  reply.body = in.substr(end + 4);
  return reply;
}

/// An agent process serving `data` on `port` (its own process group; killed at the end).
class Agent {
 public:
  Agent(std::string data, int port, std::vector<std::string> extra = {})
      : data_(std::move(data)), port_(port), extra_(std::move(extra)) {}
  ~Agent() { kill(SIGKILL); }
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  void start() {
    logStart_ = slurp(data_ + ".agent.log").size();
    std::vector<std::string> args{
        agentBin(), "serve", "--listen", "127.0.0.1:" + std::to_string(port_), "--data", data_};
    args.insert(args.end(), extra_.begin(), extra_.end());
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      const int log = open((data_ + ".agent.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(log, 1);
      dup2(log, 2);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  /// Waits until this agent says it is listening, then until /health answers (any status). A
  /// port from freePort() can be taken by another test's process before the agent binds it (CTest
  /// runs tests in parallel): then the agent exits, and it is started again on another free port,
  /// so a test never talks to a stranger's agent.
  bool ready() {
    const std::string marker = "ptyx-agent: listening on ";
    for (int attempt = 0; attempt < 5; ++attempt) {
      bool listening = false;
      const bool settled = waitUntil(
          [&] {
            const std::string text = log().substr(std::min(logStart_, log().size()));
            if (text.find(marker) != std::string::npos) return listening = true;
            int status = 0;
            return pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_;  // exited
          },
          std::chrono::seconds(20));
      if (!settled) return false;
      if (listening) {
        return waitUntil([&] { return request(port_, "GET", "/health", "").status != 0; },
                         std::chrono::seconds(20));
      }
      pid_ = -1;  // reaped above: it could not listen; try another port
      port_ = freePort();
      start();
    }
    return false;
  }
  void kill(int signal) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  [[nodiscard]] std::string log() const { return slurp(data_ + ".agent.log"); }

  /// `ptyx-agent token add`: the token it prints once.
  std::string addToken(const std::string& name = "test") const {
    const std::string cmd =
        agentBin() + " token add --data " + shellWord(data_) + " --name " + name + " 2>/dev/null";
    FILE* p = popen(cmd.c_str(), "r");
    char line[256] = {0};
    const bool got = fgets(line, sizeof line, p) != nullptr;
    pclose(p);
    std::string token = got ? line : "";
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    return token;
  }
  int tokenCommand(const std::string& args) const {
    return std::system(
        (agentBin() + " token " + args + " --data " + shellWord(data_) + " >/dev/null 2>&1")
            .c_str());
  }

  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] const std::string& data() const { return data_; }

 private:
  std::string data_;
  int port_;
  std::vector<std::string> extra_;
  pid_t pid_ = -1;
  std::size_t logStart_ = 0;  ///< where this start's lines begin in the (appended) log
};

inline std::string bearer(const std::string& token) {
  return "Bearer " + token;
}

/// PUT /uploads/NAME with the file's bytes and their SHA-256.
inline Reply upload(int port, const std::string& token, const std::string& name,
                    const std::string& path) {
  return request(port, "PUT", "/uploads/" + name, bearer(token), slurp(path),
                 {"X-Ptyx-SHA256: " + fileSha256(path)});
}

/// Polls GET /jobs/ID until its state is one of `states`; the last reply.
inline json waitForState(int port, const std::string& token, long long id,
                         const std::vector<std::string>& states, std::chrono::seconds timeout) {
  json last;
  waitUntil(
      [&] {
        last = request(port, "GET", "/jobs/" + std::to_string(id), bearer(token)).js();
        const std::string s = last.is_object() ? last.value("state", "") : "";
        return std::find(states.begin(), states.end(), s) != states.end();
      },
      timeout);
  return last;
}

/// The run's own state (status.json as GET /jobs/ID reports it); "" before the run wrote one.
inline std::string runState(int port, const std::string& token, const std::string& job) {
  const json j = request(port, "GET", job, bearer(token)).js();
  return j.is_object() && j["status"].is_object() ? j["status"].value("state", "") : "";
}

inline std::string absolute(const std::string& name) {
  return (fs::current_path() / name).string();
}

/// A test with an agent of its own: a data directory named after the test, fresh on each run,
/// and a token for it.
class AgentTest : public ::testing::Test {
 protected:
  /// Starts the agent and waits until it listens (a fatal failure otherwise).
  void startAgent() {
    fs::remove_all("data-" + name());
    agent_ = std::make_unique<Agent>(absolute("data-" + name()), freePort());
    token_ = agent_->addToken();
    agent_->start();
    ASSERT_TRUE(agent_->ready()) << agent_->log();
  }
  static std::string name() {
    return ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  [[nodiscard]] int port() const { return agent_->port(); }

  std::unique_ptr<Agent> agent_;
  std::string token_;
};

}  // namespace ptyx::agenttest
