// The default of Backend::appendFrames: a backend that cannot grow its frame set says so, and the
// caller (ptyx recon --follow) reports it instead of reconstructing from a partial scan.
#include "backend/Backend.hpp"
#include "core/Error.hpp"

namespace ptyx {

void Backend::appendFrames(const FrameSet& /*added*/, const ModelView& /*model*/) {
  throw Error(name() + " backend: cannot add frames to a running reconstruction");
}

}  // namespace ptyx
