#include "widgets/ColourTables.hpp"

#include <vtkLookupTable.h>

namespace ptyx::widgets {

void fillLookupTable(vtkLookupTable* table, Colormap map, int colours) {
  table->SetNumberOfTableValues(colours);
  for (int i = 0; i < colours; ++i) {
    const double t = map == Colormap::Cyclic ? static_cast<double>(i) / colours
                                             : static_cast<double>(i) / (colours - 1);
    const Rgb c = colour(map, t);
    table->SetTableValue(i, c.r / 255.0, c.g / 255.0, c.b / 255.0, 1.0);
  }
  table->Modified();
}

}  // namespace ptyx::widgets
