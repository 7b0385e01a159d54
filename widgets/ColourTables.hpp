#pragma once
// The colour tables every view shares, so that the maps of engine/render (the PNG pictures) are
// the same in every panel of the workbench (the bars that show them: ColourBar.hpp).
#include "render/Render.hpp"

class vtkLookupTable;

namespace ptyx::widgets {

inline constexpr int kTableColours = 1024;

/// Fills `table` with `colours` entries of `map`. A cyclic map wraps, so its last entry does not
/// repeat the first.
void fillLookupTable(vtkLookupTable* table, Colormap map, int colours = kTableColours);

}  // namespace ptyx::widgets
