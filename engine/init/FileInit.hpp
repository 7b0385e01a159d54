#pragma once
// The File branches of the initialisation (engine-internal). Kept in their own translation unit
// because they are the only part of engine/init that needs the file readers.
#include <cstddef>
#include <string>

#include "core/Array.hpp"
#include "core/Complex.hpp"
#include "core/Scan.hpp"

namespace ptyx {

/// The probe in `path` (readProbeFile), which must be M x M for the scan's frames. An empty path
/// takes the probe the scan file itself carries. Not yet normalised.
Image<cfloat> probeFromFile(const std::string& path, const Scan& scan);

/// The object in `path` (readObjectFile), which must be rows x cols.
Image<cfloat> objectFromFile(const std::string& path, std::size_t rows, std::size_t cols);

}  // namespace ptyx
