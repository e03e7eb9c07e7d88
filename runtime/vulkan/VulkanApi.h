//===- VulkanApi.h - The Vulkan entry points gemc uses, loaded at run time ---===//
//
// gemc links no Vulkan library: libvulkan.so.1 is opened with dlopen when a `vulkan` artifact
// is opened, so every program starts on machines without Vulkan and only such an artifact
// says it needs it. The Vulkan headers (types, no prototypes) are a build-time dependency only.
// GEMC_VULKAN_LOADER names another loader library (tests use it to simulate its absence).
//
//===----------------------------------------------------------------------===//
#pragma once

#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>

#include <string>

namespace gemc {

// Instance-level and device-level entry points; each X becomes a member `PFN_vkX X`.
#define GEMC_VULKAN_INSTANCE_FUNCTIONS(X)                                                        \
  X(DestroyInstance) X(EnumeratePhysicalDevices) X(GetPhysicalDeviceProperties)                  \
  X(GetPhysicalDeviceProperties2) X(GetPhysicalDeviceFeatures2)                                  \
  X(GetPhysicalDeviceQueueFamilyProperties) X(GetPhysicalDeviceMemoryProperties) X(CreateDevice) \
  X(GetDeviceProcAddr)
#define GEMC_VULKAN_DEVICE_FUNCTIONS(X)                                                          \
  X(DestroyDevice) X(GetDeviceQueue) X(CreateBuffer) X(DestroyBuffer)                            \
  X(GetBufferMemoryRequirements) X(AllocateMemory) X(FreeMemory) X(BindBufferMemory)             \
  X(MapMemory) X(UnmapMemory) X(CreateShaderModule) X(DestroyShaderModule)                       \
  X(CreateDescriptorSetLayout) X(DestroyDescriptorSetLayout) X(CreatePipelineLayout)             \
  X(DestroyPipelineLayout) X(CreateComputePipelines) X(DestroyPipeline)                          \
  X(CreateDescriptorPool) X(DestroyDescriptorPool) X(AllocateDescriptorSets)                     \
  X(UpdateDescriptorSets) X(CreateCommandPool) X(DestroyCommandPool)                             \
  X(AllocateCommandBuffers) X(BeginCommandBuffer) X(EndCommandBuffer) X(CmdBindPipeline)         \
  X(CmdBindDescriptorSets) X(CmdDispatchIndirect) X(CmdPipelineBarrier) X(CmdCopyBuffer)         \
  X(CmdFillBuffer) X(CreateFence) X(DestroyFence) X(ResetFences) X(WaitForFences)                \
  X(QueueSubmit)

struct VulkanApi {
  void *library = nullptr;
  PFN_vkGetInstanceProcAddr GetInstanceProcAddr = nullptr;
  PFN_vkCreateInstance CreateInstance = nullptr;
#define GEMC_VULKAN_MEMBER(name) PFN_vk##name name = nullptr;
  GEMC_VULKAN_INSTANCE_FUNCTIONS(GEMC_VULKAN_MEMBER)
  GEMC_VULKAN_DEVICE_FUNCTIONS(GEMC_VULKAN_MEMBER)
#undef GEMC_VULKAN_MEMBER

  /// Opens the loader and its global entry points; false with `error` if there is none.
  bool loadLibrary(std::string &error);
  bool loadInstanceFunctions(VkInstance instance, std::string &error);
  bool loadDeviceFunctions(VkDevice device, std::string &error);
};

} // namespace gemc
