#pragma once
// The colour tables and colour bars every view shares, so that the maps of engine/render (the
// PNG pictures) and the look of the bars are the same in every panel of the workbench.
#include "render/Render.hpp"

class vtkLookupTable;
class vtkScalarBarActor;

namespace ptyx::widgets {

inline constexpr int kTableColours = 1024;

/// Fills `table` with `colours` entries of `map`. A cyclic map wraps, so its last entry does not
/// repeat the first.
void fillLookupTable(vtkLookupTable* table, Colormap map, int colours = kTableColours);

/// A vertical colour bar for `table` on a dark background: five labels, light 12-point text.
void styleColourBar(vtkScalarBarActor* bar, vtkLookupTable* table, const char* title);

}  // namespace ptyx::widgets
