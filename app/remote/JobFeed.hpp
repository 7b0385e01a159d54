#pragma once
// Where a followed job's progress lines come from. The agent's WebSocket stream (JobStream)
// carries every line and resumes after a broken connection; until it is available the poller
// (same signals) stands in.
#include "JobPoller.hpp"

namespace ptyx::app {
using JobFeed = client::JobPoller;
}  // namespace ptyx::app
