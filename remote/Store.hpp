#pragma once
// The agent's state on disk: tokens and jobs in one SQLite database in the data directory
// (DIR/agent.db). Every change is committed before the HTTP answer goes out, so a killed agent
// loses nothing it acknowledged. The `token` subcommands and a running agent share the file.
#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ptyx::agent {

struct TokenRecord {
  std::int64_t id = 0;
  std::string name;
  std::string created;
  std::string revoked;  ///< "" while valid
};

struct JobRecord {
  std::int64_t id = 0;
  std::string name;
  std::string state;  ///< queued, running, finished, stopped, failed, cancelled
  std::string spec;   ///< the validated JobSpec, JSON
  std::string created;
  std::string started;
  std::string ended;
  std::optional<std::int64_t> pid;
  std::optional<int> exitCode;
  std::string message;
  std::string handle;  ///< the launcher's name for the job: a pid (local), a Slurm job id
  std::string gpus;    ///< devices assigned by the local launcher's pool, "0,1"; "" for none
};

bool isTerminal(const std::string& state);
std::string utcNow();  ///< "2024-05-01T12:00:00Z"

class Store {
 public:
  explicit Store(const std::string& path);  ///< opens or creates; throws std::runtime_error
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Tokens. The token itself is never stored, only SHA-256 of it.
  std::int64_t addToken(const std::string& name, const std::array<unsigned char, 32>& hash);
  std::vector<TokenRecord> tokens();
  bool revokeToken(std::int64_t id);  ///< false when no such valid token
  /// True when `hash` equals the hash of a token that is not revoked. Every stored hash is
  /// compared in full (no early exit), so timing says nothing about how much matched.
  bool tokenValid(const std::array<unsigned char, 32>& hash);

  // Jobs.
  std::int64_t addJob(const std::string& name, const std::string& spec);
  std::optional<JobRecord> job(std::int64_t id);
  std::vector<JobRecord> jobs(const std::string& state = "");
  void setRunning(std::int64_t id, std::int64_t pid);
  /// Running under a launcher: its handle, the pid when the agent knows one, the GPUs it holds.
  void setLaunched(std::int64_t id, const std::string& handle, std::optional<std::int64_t> pid,
                   const std::string& gpus);
  bool deleteJob(std::int64_t id);  ///< false when no such job
  void setEnded(std::int64_t id, const std::string& state, std::optional<int> exitCode,
                const std::string& message);

 private:
  void exec(const char* sql);
  void addColumnIfMissing(const char* table, const char* column, const char* type);
  sqlite3* db_ = nullptr;
};

}  // namespace ptyx::agent
