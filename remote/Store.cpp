#include "Store.hpp"

#include <sys/stat.h>

#include <ctime>
#include <memory>
#include <stdexcept>

namespace ptyx::agent {

namespace {

struct StatementDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

std::string column(sqlite3_stmt* s, int i) {
  const auto* text = sqlite3_column_text(s, i);
  return text != nullptr ? reinterpret_cast<const char*>(text) : "";
}

JobRecord readJob(sqlite3_stmt* s) {
  JobRecord j;
  j.id = sqlite3_column_int64(s, 0);
  j.name = column(s, 1);
  j.state = column(s, 2);
  j.spec = column(s, 3);
  j.created = column(s, 4);
  j.started = column(s, 5);
  j.ended = column(s, 6);
  if (sqlite3_column_type(s, 7) != SQLITE_NULL) j.pid = sqlite3_column_int64(s, 7);
  if (sqlite3_column_type(s, 8) != SQLITE_NULL) j.exitCode = sqlite3_column_int(s, 8);
  j.message = column(s, 9);
  j.handle = column(s, 10);
  j.gpus = column(s, 11);
  return j;
}

constexpr const char* kJobColumns =
    "SELECT id, name, state, spec, created, started, ended, pid, exit_code, message, handle, gpus"
    " FROM jobs";

}  // namespace

bool isTerminal(const std::string& state) {
  return state == "finished" || state == "stopped" || state == "failed" || state == "cancelled";
}

std::string utcNow() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

Store::Store(const std::string& path) {
  const mode_t old = umask(077);  // the database holds token hashes: owner only
  const int rc =
      sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  umask(old);
  if (rc != SQLITE_OK) {
    const std::string why = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("cannot open " + path + ": " + why);
  }
  sqlite3_busy_timeout(db_, 10000);
  exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA synchronous=FULL");
  exec(
      "CREATE TABLE IF NOT EXISTS tokens(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,"
      " hash BLOB NOT NULL, created TEXT NOT NULL, revoked TEXT)");
  exec(
      "CREATE TABLE IF NOT EXISTS jobs(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,"
      " state TEXT NOT NULL, spec TEXT NOT NULL, created TEXT NOT NULL, started TEXT, ended TEXT,"
      " pid INTEGER, exit_code INTEGER, message TEXT)");
  // Version 2: the launcher's handle of a job and the GPUs it holds (docs/AGENT.md).
  addColumnIfMissing("jobs", "handle", "TEXT");
  addColumnIfMissing("jobs", "gpus", "TEXT");
  exec("PRAGMA user_version=2");
}

Store::~Store() {
  sqlite3_close(db_);
}

void Store::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string why = error != nullptr ? error : "unknown error";
    sqlite3_free(error);
    throw std::runtime_error(std::string("database: ") + why);
  }
}

void Store::addColumnIfMissing(const char* table, const char* column, const char* type) {
  sqlite3_stmt* s = nullptr;
  const std::string info = std::string("PRAGMA table_info(") + table + ")";
  if (sqlite3_prepare_v2(db_, info.c_str(), -1, &s, nullptr) != SQLITE_OK) {
    throw std::runtime_error(std::string("database: ") + sqlite3_errmsg(db_));
  }
  bool found = false;
  while (sqlite3_step(s) == SQLITE_ROW) {
    const auto* name = sqlite3_column_text(s, 1);
    if (name != nullptr && std::string(reinterpret_cast<const char*>(name)) == column) found = true;
  }
  sqlite3_finalize(s);
  if (!found)
    exec((std::string("ALTER TABLE ") + table + " ADD COLUMN " + column + " " + type).c_str());
}

namespace {

Statement prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
    throw std::runtime_error(std::string("database: ") + sqlite3_errmsg(db));
  }
  return Statement(s);
}

void bindText(sqlite3_stmt* s, int i, const std::string& text) {
  sqlite3_bind_text(s, i, text.c_str(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

void done(sqlite3* db, sqlite3_stmt* s) {
  if (sqlite3_step(s) != SQLITE_DONE) {
    throw std::runtime_error(std::string("database: ") + sqlite3_errmsg(db));
  }
}

}  // namespace

std::int64_t Store::addToken(const std::string& name, const std::array<unsigned char, 32>& hash) {
  auto s = prepare(db_, "INSERT INTO tokens(name, hash, created) VALUES(?, ?, ?)");
  bindText(s.get(), 1, name);
  sqlite3_bind_blob(s.get(), 2, hash.data(), static_cast<int>(hash.size()), SQLITE_TRANSIENT);
  bindText(s.get(), 3, utcNow());
  done(db_, s.get());
  return sqlite3_last_insert_rowid(db_);
}

std::vector<TokenRecord> Store::tokens() {
  auto s = prepare(db_, "SELECT id, name, created, revoked FROM tokens ORDER BY id");
  std::vector<TokenRecord> out;
  while (sqlite3_step(s.get()) == SQLITE_ROW) {
    out.push_back({sqlite3_column_int64(s.get(), 0), column(s.get(), 1), column(s.get(), 2),
                   column(s.get(), 3)});
  }
  return out;
}

bool Store::revokeToken(std::int64_t id) {
  auto s = prepare(db_, "UPDATE tokens SET revoked = ? WHERE id = ? AND revoked IS NULL");
  bindText(s.get(), 1, utcNow());
  sqlite3_bind_int64(s.get(), 2, id);
  done(db_, s.get());
  return sqlite3_changes(db_) == 1;
}

bool Store::tokenValid(const std::array<unsigned char, 32>& hash) {
  auto s = prepare(db_, "SELECT hash FROM tokens WHERE revoked IS NULL");
  unsigned found = 0;
  while (sqlite3_step(s.get()) == SQLITE_ROW) {
    const auto* stored = static_cast<const unsigned char*>(sqlite3_column_blob(s.get(), 0));
    if (stored == nullptr || sqlite3_column_bytes(s.get(), 0) != static_cast<int>(hash.size())) {
      continue;
    }
    unsigned diff = 0;
    for (std::size_t i = 0; i < hash.size(); ++i)
      diff |= static_cast<unsigned>(stored[i] ^ hash[i]);
    found |= static_cast<unsigned>(diff == 0);
  }
  return found != 0;
}

std::int64_t Store::addJob(const std::string& name, const std::string& spec) {
  auto s = prepare(db_, "INSERT INTO jobs(name, state, spec, created) VALUES(?, 'queued', ?, ?)");
  bindText(s.get(), 1, name);
  bindText(s.get(), 2, spec);
  bindText(s.get(), 3, utcNow());
  done(db_, s.get());
  return sqlite3_last_insert_rowid(db_);
}

std::optional<JobRecord> Store::job(std::int64_t id) {
  auto s = prepare(db_, std::string(kJobColumns) + " WHERE id = ?");
  sqlite3_bind_int64(s.get(), 1, id);
  if (sqlite3_step(s.get()) != SQLITE_ROW) return std::nullopt;
  return readJob(s.get());
}

std::vector<JobRecord> Store::jobs(const std::string& state) {
  auto s = prepare(
      db_, std::string(kJobColumns) + (state.empty() ? "" : " WHERE state = ?") + " ORDER BY id");
  if (!state.empty()) bindText(s.get(), 1, state);
  std::vector<JobRecord> out;
  while (sqlite3_step(s.get()) == SQLITE_ROW) out.push_back(readJob(s.get()));
  return out;
}

void Store::setRunning(std::int64_t id, std::int64_t pid) {
  auto s = prepare(db_, "UPDATE jobs SET state = 'running', pid = ?, started = ? WHERE id = ?");
  sqlite3_bind_int64(s.get(), 1, pid);
  bindText(s.get(), 2, utcNow());
  sqlite3_bind_int64(s.get(), 3, id);
  done(db_, s.get());
}

void Store::setLaunched(std::int64_t id, const std::string& handle, std::optional<std::int64_t> pid,
                        const std::string& gpus) {
  auto s = prepare(db_,
                   "UPDATE jobs SET state = 'running', handle = ?, pid = ?, gpus = ?, started = ?"
                   " WHERE id = ?");
  bindText(s.get(), 1, handle);
  if (pid) {
    sqlite3_bind_int64(s.get(), 2, *pid);
  } else {
    sqlite3_bind_null(s.get(), 2);
  }
  bindText(s.get(), 3, gpus);
  bindText(s.get(), 4, utcNow());
  sqlite3_bind_int64(s.get(), 5, id);
  done(db_, s.get());
}

bool Store::deleteJob(std::int64_t id) {
  auto s = prepare(db_, "DELETE FROM jobs WHERE id = ?");
  sqlite3_bind_int64(s.get(), 1, id);
  done(db_, s.get());
  return sqlite3_changes(db_) == 1;
}

void Store::setEnded(std::int64_t id, const std::string& state, std::optional<int> exitCode,
                     const std::string& message) {
  auto s =
      prepare(db_, "UPDATE jobs SET state = ?, exit_code = ?, message = ?, ended = ? WHERE id = ?");
  bindText(s.get(), 1, state);
  if (exitCode) {
    sqlite3_bind_int(s.get(), 2, *exitCode);
  } else {
    sqlite3_bind_null(s.get(), 2);
  }
  bindText(s.get(), 3, message);
  bindText(s.get(), 4, utcNow());
  sqlite3_bind_int64(s.get(), 5, id);
  done(db_, s.get());
}

}  // namespace ptyx::agent
