#pragma once
// Where a followed job's progress lines come from: the agent's WebSocket stream, which carries
// every line in order and resumes after a broken connection without gaps.
#include "JobStream.hpp"

namespace ptyx::app {
using JobFeed = client::JobStream;
}  // namespace ptyx::app
