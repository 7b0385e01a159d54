#include "widgets/FreeTypeCache.hpp"

#include <cstdlib>

#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_MODULE_H

#include <vtkFreeTypeTools.h>
#include <vtkObjectFactory.h>

namespace ptyx::widgets {
namespace {

void* zeroedAlloc(FT_Memory /*memory*/, long size) {
  return std::calloc(1, static_cast<std::size_t>(size));
}
void release(FT_Memory /*memory*/, void* block) {
  std::free(block);  // NOLINT(cppcoreguidelines-no-malloc): FreeType's allocator interface
}
void* reallocate(FT_Memory /*memory*/, long /*size*/, long newSize, void* block) {
  return std::realloc(block,
                      static_cast<std::size_t>(newSize));  // NOLINT(cppcoreguidelines-no-malloc)
}

/// vtkFreeTypeTools on a library with our allocator. The base class made its own library in its
/// constructor; it is replaced before anything used it. The base destructor's FT_Done_FreeType
/// releases ours, memory record included (allocated with malloc for that reason).
class ZeroedFreeTypeTools : public vtkFreeTypeTools {
 public:
  static ZeroedFreeTypeTools* New();
  vtkTypeMacro(ZeroedFreeTypeTools, vtkFreeTypeTools)

      /// Whether VTK's text has already made its FreeType tools: VTK's text renderer keeps a
      /// pointer to them, so they must not be replaced any more.
      static bool madeAlready() {
    return Instance != nullptr;
  }

 protected:
  ZeroedFreeTypeTools() {
    if (Library == nullptr) return;
    auto* memory = static_cast<FT_Memory>(std::malloc(sizeof(FT_MemoryRec_)));  // NOLINT
    if (memory == nullptr) return;
    memory->user = nullptr;
    memory->alloc = zeroedAlloc;
    memory->free = release;
    memory->realloc = reallocate;
    FT_Library library = nullptr;
    if (FT_New_Library(memory, &library) != 0) {
      std::free(memory);  // NOLINT(cppcoreguidelines-no-malloc)
      return;
    }
    FT_Add_Default_Modules(library);
    FT_Set_Default_Properties(library);
    FT_Done_FreeType(*Library);
    *Library = library;
  }
  ~ZeroedFreeTypeTools() override = default;
};
vtkStandardNewMacro(ZeroedFreeTypeTools);

}  // namespace

void useZeroedFreeTypeAllocations() {
  static const bool done = [] {
    if (ZeroedFreeTypeTools::madeAlready()) return false;
    vtkFreeTypeTools* tools = ZeroedFreeTypeTools::New();
    vtkFreeTypeTools::SetInstance(tools);  // registers it
    tools->Delete();
    return true;
  }();
  (void)done;
}

bool zeroedFreeTypeAllocationsInUse() {
  return vtkFreeTypeTools::GetInstance()->IsA("ZeroedFreeTypeTools") != 0;
}

}  // namespace ptyx::widgets
