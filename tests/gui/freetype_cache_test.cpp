// VTK's glyph cache keeps glyphs (FreeTypeCache.hpp): a glyph looked up again after others is
// the same cached glyph, not one rasterised anew. Debian 12's FreeType leaves its cache manager's
// weight uninitialised; the heap is dirtied first, as a long-running GUI's is, so that without
// the workaround the manager starts "over budget" and this test fails.
#include <QTest>

#include <cstdlib>
#include <cstring>
#include <vector>

#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_CACHE_H

#include <vtkFreeTypeTools.h>
#include <vtkNew.h>
#include <vtkTextProperty.h>

#include "widgets/FreeTypeCache.hpp"

namespace {

// VTK's cache accessors are protected; pointers to them taken through a derived class may be
// used on any vtkFreeTypeTools.
struct Access : vtkFreeTypeTools {
  static FTC_ImageCache* imageCache(vtkFreeTypeTools* tools) {
    return (tools->*(&Access::GetImageCache))();
  }
  static bool glyphIndex(vtkFreeTypeTools* tools, size_t face, FT_UInt32 c, FT_UInt* index) {
    using Lookup = bool (vtkFreeTypeTools::*)(size_t, FT_UInt32, FT_UInt*);
    const Lookup lookup = &Access::GetGlyphIndex;
    return (tools->*lookup)(face, c, index);
  }
};

// The glyph as VTK asks for it when it draws a label: rendered, 12 points at 72 dpi.
FT_Glyph glyphOf(vtkFreeTypeTools* tools, char c, size_t face) {
  FT_UInt index = 0;
  if (!Access::glyphIndex(tools, face, static_cast<FT_UInt32>(c), &index)) return nullptr;
  FTC_ScalerRec scaler{};
  scaler.face_id = reinterpret_cast<FTC_FaceID>(face);  // NOLINT: VTK's face ids are numbers
  scaler.width = 12 * 64;
  scaler.height = 12 * 64;
  scaler.x_res = 72;
  scaler.y_res = 72;
  FT_Glyph glyph = nullptr;
  const FT_Error error = FTC_ImageCache_LookupScaler(*Access::imageCache(tools), &scaler,
                                                     FT_LOAD_RENDER, index, &glyph, nullptr);
  return error == 0 ? glyph : nullptr;
}

// Small blocks of every size filled with 0x7f bytes, freed: the allocator hands them out again,
// so an uninitialised weight reads as a huge one. (All ones would wrap to a small weight at the
// first insertion and hide the fault.)
void dirtyTheHeap() {
  std::vector<void*> blocks;
  for (std::size_t size = 16; size <= 4096; size += 16) {
    for (int k = 0; k < 64; ++k) {
      void* block = std::malloc(size);  // NOLINT(cppcoreguidelines-no-malloc)
      std::memset(block, 0x7f, size);
      blocks.push_back(block);
    }
  }
  for (void* block : blocks) std::free(block);  // NOLINT(cppcoreguidelines-no-malloc)
}

}  // namespace

class FreeTypeCacheTest : public QObject {
  Q_OBJECT

 private slots:
  void aGlyphLookedUpAgainIsTheCachedOne() {
    dirtyTheHeap();
    ptyx::widgets::useZeroedFreeTypeAllocations();
    QVERIFY(ptyx::widgets::zeroedFreeTypeAllocationsInUse());

    vtkFreeTypeTools* tools = vtkFreeTypeTools::GetInstance();
    vtkNew<vtkTextProperty> text;
    text->SetFontSize(12);
    size_t face = 0;
    tools->MapTextPropertyToId(text, &face);

    // A mark in the cached glyph (its vertical advance, unused by horizontal text) survives
    // only if the glyph stays cached: one rasterised anew (even at the same address) has none.
    const FT_Glyph first = glyphOf(tools, 'A', face);
    QVERIFY(first != nullptr);
    const FT_Pos advance = first->advance.y;
    constexpr FT_Pos kMark = 0x5a5a;
    first->advance.y = kMark;
    for (char c = 'B'; c <= 'Z'; ++c) QVERIFY(glyphOf(tools, c, face) != nullptr);
    const FT_Glyph again = glyphOf(tools, 'A', face);
    QVERIFY(again != nullptr);
    const FT_Pos seen = again->advance.y;
    again->advance.y = advance;
    QVERIFY2(seen == kMark, "the glyph was evicted and rasterised again");
  }
};

QTEST_MAIN(FreeTypeCacheTest)
#include "freetype_cache_test.moc"
