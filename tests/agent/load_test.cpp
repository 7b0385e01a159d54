// Load: 50 small jobs submitted concurrently by 5 clients (threads, each with its own token and
// its own upload), 10 streaming clients following every job live. Every job completes, none is
// lost or duplicated, every stream ends with the right state and gapless seqs, the agent never
// runs more jobs at once than --max-running; all within a generous time bound.
#include <mutex>
#include <set>

#include "stream_support.hpp"

using namespace ptyx;
using namespace ptyx::agenttest;

namespace {

constexpr int kSubmitters = 5;
constexpr int kJobsEach = 10;
constexpr int kJobs = kSubmitters * kJobsEach;
constexpr int kStreamers = 10;
constexpr int kIterations = 5;
constexpr int kMaxRunning = 2;  // the test machine has 2 cores
constexpr auto kTimeBound = std::chrono::seconds(240);

TEST(AgentLoad, FiftyJobsFromFiveClientsAllCompleteAndStreamGapless) {
  qtApp();
  simulateScan();
  fs::remove_all("data-load");
  Agent agent(absolute("data-load"), freePort(), {"--max-running", std::to_string(kMaxRunning)});
  std::vector<std::string> submitTokens;
  std::vector<std::string> streamTokens;
  for (int c = 0; c < kSubmitters; ++c)
    submitTokens.push_back(agent.addToken("submitter-" + std::to_string(c)));
  for (int s = 0; s < kStreamers; ++s)
    streamTokens.push_back(agent.addToken("streamer-" + std::to_string(s)));
  agent.start();
  ASSERT_TRUE(agent.ready()) << agent.log();
  const int port = agent.port();
  const auto started = std::chrono::steady_clock::now();

  std::mutex mutex;
  std::vector<long long> ids;  // in the order the agent answered
  std::vector<std::string> failures;
  std::vector<std::thread> submitters;
  for (int c = 0; c < kSubmitters; ++c) {
    submitters.emplace_back([&, c] {
      const std::string& token = submitTokens[static_cast<std::size_t>(c)];
      const std::string scan = "scan-" + std::to_string(c) + ".cxi";
      // Five uploads at once exceed the agent's concurrent-upload limit (4): the one refused
      // with 503 waits and tries again, as a real client does (AgentClient honours Retry-After).
      Reply up = upload(port, token, scan, "sim.cxi");
      for (int retry = 0; up.status == 503 && retry < 50; ++retry) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        up = upload(port, token, scan, "sim.cxi");
      }
      if (up.status != 201) {
        const std::lock_guard lock(mutex);
        failures.push_back("upload " + scan + ": " + std::to_string(up.status) + " " + up.body);
        return;
      }
      for (int j = 0; j < kJobsEach; ++j) {
        const json spec = {{"version", 1},
                           {"name", "load-" + std::to_string(c) + "-" + std::to_string(j)},
                           {"scan", scan},
                           {"ranks", 1},
                           {"parameters", {{"iterations", kIterations}, {"threads", 1}}}};
        const Reply r = request(port, "POST", "/jobs", bearer(token), spec.dump());
        const std::lock_guard lock(mutex);
        if (r.status == 201) {
          ids.push_back(r.js().value("id", -1LL));
        } else {
          failures.push_back("submit " + spec["name"].get<std::string>() + ": " +
                             std::to_string(r.status) + " " + r.body);
        }
      }
    });
  }

  // Streaming clients follow the jobs as they appear: job k goes to streamer k % 10.
  std::vector<std::unique_ptr<client::JobStream>> streams;
  std::vector<std::unique_ptr<Recording>> recordings;
  std::vector<long long> streamed;
  int maxRunning = 0;
  auto lastCount = std::chrono::steady_clock::now() - std::chrono::seconds(10);
  const auto allEnded = [&] {
    if (static_cast<int>(recordings.size()) < kJobs) return false;
    return std::all_of(recordings.begin(), recordings.end(),
                       [](const auto& r) { return r->ended; });
  };
  const bool finished = spinUntil(
      [&] {
        {
          const std::lock_guard lock(mutex);
          while (streamed.size() < ids.size()) {
            const long long id = ids[streamed.size()];
            const std::size_t k = streamed.size() % kStreamers;
            streams.push_back(
                std::make_unique<client::JobStream>(endpointFor(port, streamTokens[k]), id));
            recordings.push_back(std::make_unique<Recording>());
            recordings.back()->attach(*streams.back());
            streams.back()->start();
            streamed.push_back(id);
          }
          if (!failures.empty()) return true;
        }
        if (std::chrono::steady_clock::now() - lastCount > std::chrono::seconds(1)) {
          lastCount = std::chrono::steady_clock::now();
          const json list = request(port, "GET", "/jobs", bearer(submitTokens[0])).js();
          int running = 0;
          for (const json& j : list.value("jobs", json::array()))
            running += j.value("state", "") == "running";
          maxRunning = std::max(maxRunning, running);
        }
        return allEnded();
      },
      kTimeBound);
  for (auto& t : submitters) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_TRUE(failures.empty()) << failures.front();
  ASSERT_TRUE(finished) << "not done within " << kTimeBound.count() << " s: " << recordings.size()
                        << " streams started";

  // None lost, none duplicated: 50 distinct ids, and the agent lists exactly those 50.
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(std::set<long long>(ids.begin(), ids.end()).size(), static_cast<std::size_t>(kJobs));
  const json list = request(port, "GET", "/jobs", bearer(submitTokens[0])).js();
  ASSERT_EQ(list["jobs"].size(), static_cast<std::size_t>(kJobs));
  std::set<long long> listed;
  std::set<std::string> names;
  for (const json& j : list["jobs"]) {
    listed.insert(j.value("id", -1LL));
    names.insert(j.value("name", ""));
    EXPECT_EQ(j.value("state", ""), "finished") << j.dump();
  }
  EXPECT_EQ(listed, std::set<long long>(ids.begin(), ids.end()));
  EXPECT_EQ(names.size(), static_cast<std::size_t>(kJobs));
  EXPECT_LE(maxRunning, kMaxRunning);
  EXPECT_GE(maxRunning, 1);

  // Every stream: the right end, every line of its job once, in order.
  for (std::size_t k = 0; k < streams.size(); ++k) {
    const Recording& r = *recordings[k];
    const long long id = streamed[k];
    EXPECT_EQ(r.endState, "finished") << "job " << id;
    const std::vector<json> file =
        progressLines(agent.data() + "/jobs/" + std::to_string(id) + "/run/progress.jsonl");
    EXPECT_TRUE(consecutive<long long>(r.seqs, 1, file.size())) << "job " << id;
    EXPECT_TRUE(matchesFile(r, file, 1)) << "job " << id;
    EXPECT_TRUE(consecutive<int>(r.iterations(), 1, kIterations)) << "job " << id;
    for (const std::string& e : r.errors) {
      EXPECT_EQ(e.find("the agent refused"), std::string::npos)
          << "job " << id << ": " << e;  // transient ones retry
    }
  }
  std::cout << kJobs << " jobs (" << kIterations << " iterations, 1 rank, --max-running "
            << kMaxRunning << ") submitted by " << kSubmitters << " clients and streamed by "
            << kStreamers << " in " << seconds << " s\n";
}

}  // namespace
