#pragma once
// A workaround for the FreeType 2.12 in Debian 12, whose cache manager is allocated without being
// zeroed and whose running weight is never set: it starts from whatever was in that memory, so
// VTK's glyph cache finds itself over budget on every insertion and evicts every glyph. Each
// label VTK measures or draws (chart axes, legends) was then rasterised again on every frame,
// the largest share of a view's frame during a live run (docs/PERFORMANCE.md).

namespace ptyx::widgets {

/// Gives VTK's text rendering a FreeType library whose allocations are zeroed, so the cache
/// manager starts empty and keeps glyphs as it should. It must come before VTK makes anything
/// with text (a text actor, a chart): VtkRenderWidget::setDefaultSurfaceFormat() calls it,
/// before the application starts. Once VTK's text exists this does nothing (replacing its FreeType
/// tools then would leave VTK a dangling pointer); zeroedFreeTypeAllocationsInUse() tells.
void useZeroedFreeTypeAllocations();

/// Whether VTK's text uses that library.
[[nodiscard]] bool zeroedFreeTypeAllocationsInUse();

}  // namespace ptyx::widgets
