#include "widgets/CameraLink.hpp"

#include <algorithm>

#include <vtkCamera.h>
#include <vtkCommand.h>

#include "widgets/VtkRenderWidget.hpp"

namespace ptyx::widgets {

CameraLink::CameraLink(QObject* parent) : QObject(parent) {}

CameraLink::~CameraLink() {
  for (Member& m : members_) m.camera->RemoveObserver(m.observer);
}

void CameraLink::add(VtkRenderWidget* view, vtkCamera* camera) {
  if (view == nullptr || camera == nullptr) return;
  remove(view);
  Member m;
  m.view = view;
  m.camera = camera;
  m.observer = camera->AddObserver(vtkCommand::ModifiedEvent, this, &CameraLink::cameraModified);
  members_.push_back(m);
  connect(view, &QObject::destroyed, this, [this, view] { remove(view); });
  if (members_.size() > 1) copyFrom(members_.front().camera);
}

void CameraLink::remove(VtkRenderWidget* view) {
  // Compare the raw pointer: during destruction the QPointer may already read null.
  auto it = std::find_if(members_.begin(), members_.end(), [view](const Member& m) {
    return m.view.data() == view || m.view.isNull();
  });
  while (it != members_.end()) {
    it->camera->RemoveObserver(it->observer);
    members_.erase(it);
    it = std::find_if(members_.begin(), members_.end(),
                      [view](const Member& m) { return m.view.data() == view || m.view.isNull(); });
  }
  disconnect(view, &QObject::destroyed, this, nullptr);
}

void CameraLink::cameraModified(vtkObject* caller, unsigned long /*event*/, void* /*data*/) {
  if (copying_) return;
  copyFrom(vtkCamera::SafeDownCast(caller));
}

void CameraLink::copyFrom(vtkCamera* source) {
  if (source == nullptr) return;
  copying_ = true;
  for (Member& m : members_) {
    if (m.camera == source) continue;
    // What pan and zoom change in a 2-D view; clipping follows from the position.
    m.camera->SetFocalPoint(source->GetFocalPoint());
    m.camera->SetPosition(source->GetPosition());
    m.camera->SetViewUp(source->GetViewUp());
    m.camera->SetParallelProjection(source->GetParallelProjection());
    m.camera->SetParallelScale(source->GetParallelScale());
    m.camera->SetViewAngle(source->GetViewAngle());
    m.camera->SetClippingRange(source->GetClippingRange());
    if (m.view) m.view->requestRender();
  }
  copying_ = false;
}

}  // namespace ptyx::widgets
