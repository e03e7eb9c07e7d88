//===- VulkanApi.cpp - The Vulkan entry points gemc uses, loaded at run time -===//

#include "runtime/vulkan/VulkanApi.h"

#include <dlfcn.h>

#include <cstdlib>

namespace gemc {

bool VulkanApi::loadLibrary(std::string &error) {
  const char *path = std::getenv("GEMC_VULKAN_LOADER");
  if (!path || !*path)
    path = "libvulkan.so.1";
  library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    error = std::string("this artifact runs on Vulkan, but the Vulkan loader ") + path +
            " cannot be loaded (install a Vulkan driver: on Debian, libvulkan1 and "
            "mesa-vulkan-drivers or the GPU vendor's)";
    return false;
  }
  GetInstanceProcAddr =
      reinterpret_cast<PFN_vkGetInstanceProcAddr>(dlsym(library, "vkGetInstanceProcAddr"));
  if (GetInstanceProcAddr)
    CreateInstance = reinterpret_cast<PFN_vkCreateInstance>(
        GetInstanceProcAddr(nullptr, "vkCreateInstance"));
  if (!CreateInstance) {
    error = std::string(path) + " is not a Vulkan loader (no vkGetInstanceProcAddr)";
    return false;
  }
  return true;
}

namespace {

/// Sets `function` to what `lookup` finds for `name`; false with `error` if nothing.
template <typename Function, typename Lookup>
bool resolve(Function &function, Lookup lookup, const char *name, const char *owner,
             std::string &error) {
  function = reinterpret_cast<Function>(lookup(name));
  if (!function)
    error = std::string(owner) + " lacks " + name;
  return function != nullptr;
}

} // namespace

// Both loaders expand a function list into one resolve() per entry point.
#define GEMC_VULKAN_RESOLVE(name) ok = ok && resolve(name, lookup, "vk" #name, owner, error);

bool VulkanApi::loadInstanceFunctions(VkInstance instance, std::string &error) {
  auto lookup = [&](const char *name) { return GetInstanceProcAddr(instance, name); };
  const char *owner = "the Vulkan loader";
  bool ok = true;
  GEMC_VULKAN_INSTANCE_FUNCTIONS(GEMC_VULKAN_RESOLVE)
  return ok;
}

bool VulkanApi::loadDeviceFunctions(VkDevice device, std::string &error) {
  auto lookup = [&](const char *name) { return GetDeviceProcAddr(device, name); };
  const char *owner = "the Vulkan device";
  bool ok = true;
  GEMC_VULKAN_DEVICE_FUNCTIONS(GEMC_VULKAN_RESOLVE)
  return ok;
}

#undef GEMC_VULKAN_RESOLVE

} // namespace gemc
