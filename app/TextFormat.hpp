#pragma once
// How the workbench writes times and numbers for people (status bar, Jobs dock).
#include <QString>

#include <cmath>

namespace ptyx::app {

/// "m:ss", or "h:mm:ss" from an hour on (ETAs, run times).
inline QString duration(double seconds) {
  const auto s = static_cast<long long>(std::lround(seconds));
  return s >= 3600 ? QStringLiteral("%1:%2:%3")
                         .arg(s / 3600)
                         .arg((s / 60) % 60, 2, 10, QLatin1Char('0'))
                         .arg(s % 60, 2, 10, QLatin1Char('0'))
                   : QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

}  // namespace ptyx::app
