#include "itk_hessian.hpp"

#include <itkHessianRecursiveGaussianImageFilter.h>
#include <itkImage.h>
#include <itkImageRegionConstIterator.h>
#include <itkImportImageFilter.h>
#include <itkMultiThreaderBase.h>

namespace spinescope::bench {

double itk_hessian(const Volume<float>& volume, double sigma_um, int threads) {
  using Image = itk::Image<float, 3>;
  itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(threads);
  auto import = itk::ImportImageFilter<float, 3>::New();
  itk::ImportImageFilter<float, 3>::SizeType size;
  size[0] = volume.nx(), size[1] = volume.ny(), size[2] = volume.nz();
  itk::ImportImageFilter<float, 3>::IndexType start;
  start.Fill(0);
  import->SetRegion({start, size});
  const double spacing[3] = {volume.spacing().x_um, volume.spacing().y_um, volume.spacing().z_um};
  import->SetSpacing(spacing);
  import->SetImportPointer(const_cast<float*>(volume.data()), volume.size(), false);
  auto hessian = itk::HessianRecursiveGaussianImageFilter<Image>::New();
  hessian->SetInput(import->GetOutput());
  hessian->SetSigma(sigma_um);
  hessian->SetNumberOfWorkUnits(threads);
  hessian->Update();
  double trace = 0.0;
  itk::ImageRegionConstIterator<itk::HessianRecursiveGaussianImageFilter<Image>::OutputImageType> it(
      hessian->GetOutput(), hessian->GetOutput()->GetLargestPossibleRegion());
  for (; !it.IsAtEnd(); ++it) trace += it.Get().GetTrace();
  return trace;
}

}  // namespace spinescope::bench
