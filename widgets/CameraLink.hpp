#pragma once
// Links the cameras of several VTK views so that pan and zoom in one is seen in all (e.g. the
// object views of two reconstructions, or object amplitude next to a probe view of the same
// scale). Views leave the link when they are destroyed.
#include <QObject>
#include <QPointer>

#include <vector>

#include <vtkSmartPointer.h>

class vtkCamera;
class vtkObject;

namespace ptyx::widgets {

class VtkRenderWidget;

class CameraLink : public QObject {
  Q_OBJECT

 public:
  explicit CameraLink(QObject* parent = nullptr);
  ~CameraLink() override;
  CameraLink(const CameraLink&) = delete;
  CameraLink& operator=(const CameraLink&) = delete;

  /// Adds a view and the camera it renders with. The first view's camera sets the others.
  void add(VtkRenderWidget* view, vtkCamera* camera);
  void remove(VtkRenderWidget* view);
  [[nodiscard]] std::size_t size() const { return members_.size(); }

 private:
  struct Member {
    QPointer<VtkRenderWidget> view;
    vtkSmartPointer<vtkCamera> camera;
    unsigned long observer = 0;
  };
  void cameraModified(vtkObject* caller, unsigned long event, void* data);
  void copyFrom(vtkCamera* source);

  std::vector<Member> members_;
  bool copying_ = false;
};

}  // namespace ptyx::widgets
