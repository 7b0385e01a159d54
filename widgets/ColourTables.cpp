#include "widgets/ColourTables.hpp"

#include <vtkCoordinate.h>
#include <vtkLookupTable.h>
#include <vtkScalarBarActor.h>
#include <vtkTextProperty.h>

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

void styleColourBar(vtkScalarBarActor* bar, vtkLookupTable* table, const char* title) {
  bar->SetLookupTable(table);
  bar->SetTitle(title);
  bar->SetNumberOfLabels(5);
  bar->SetLabelFormat("%-#6.3g");
  bar->SetMaximumNumberOfColors(kTableColours);
  bar->SetOrientationToVertical();
  bar->UnconstrainedFontSizeOn();
  bar->GetPositionCoordinate()->SetCoordinateSystemToNormalizedViewport();
  bar->SetHeight(0.84);
  bar->SetBarRatio(0.28);
  for (vtkTextProperty* text : {bar->GetTitleTextProperty(), bar->GetLabelTextProperty()}) {
    text->SetColor(0.9, 0.9, 0.9);
    text->SetFontSize(12);
    text->BoldOff();
    text->ItalicOff();
    text->ShadowOff();
  }
}

}  // namespace ptyx::widgets
