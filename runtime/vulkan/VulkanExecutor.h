//===- VulkanExecutor.h - Runs a dispatch table on a Vulkan device ------------===//
//
// VulkanModel is what a model opens once: the loader, an instance and a device (`device` >= 0
// picks by index; otherwise the first discrete GPU, else integrated, else any, a CPU
// implementation such as lavapipe last), one compute pipeline per dispatch from the artifact's
// SPIR-V, and the weights uploaded into device memory. VulkanExecutor is a session's: its KV
// cache and scratch in device memory, host-visible token, parameter, grid and logits buffers,
// one descriptor set per dispatch, and one command buffer recorded once: each dispatch
// indirect (its grid is written per call), then a barrier. A call writes the ids, the
// parameters and the grids, submits, waits, and copies back the logits rows it asked for.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Artifact.h"
#include "runtime/Executor.h"
#include "runtime/vulkan/VulkanApi.h"

#include <functional>
#include <memory>
#include <vector>

namespace gemc {

struct VulkanBuffer {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  void *mapped = nullptr; // host-visible buffers only
  uint64_t size = 0;
};

class VulkanModel {
public:
  static std::unique_ptr<VulkanModel> open(const MappedArtifact &artifact, int32_t device,
                                           std::string &error);
  ~VulkanModel();

  const std::string &deviceName() const { return deviceName_; }

private:
  friend class VulkanExecutor;
  struct Kernel {
    VkShaderModule module = VK_NULL_HANDLE;
    VkDescriptorSetLayout setLayout = VK_NULL_HANDLE;
    VkPipelineLayout layout = VK_NULL_HANDLE;
    VkPipeline pipeline = VK_NULL_HANDLE;
    std::vector<BindingRange> bindings;
    int64_t perToken = 0, fixed = 0;
  };

  VulkanModel() = default;
  bool pickDevice(int32_t index, std::string &error);
  bool createDevice(std::string &error);
  bool createKernels(const MappedArtifact &artifact, std::string &error);
  bool uploadWeights(const MappedArtifact &artifact, std::string &error);
  bool createBuffer(uint64_t size, VkBufferUsageFlags usage, bool hostVisible,
                    VulkanBuffer &buffer, std::string &error);
  void destroyBuffer(VulkanBuffer &buffer);
  /// Records `record` into a one-time command buffer, submits it and waits.
  bool submitOnce(const std::function<void(VkCommandBuffer)> &record, std::string &error);

  VulkanApi api_;
  VkInstance instance_ = VK_NULL_HANDLE;
  VkPhysicalDevice physical_ = VK_NULL_HANDLE;
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  uint32_t queueFamily_ = 0;
  VkPhysicalDeviceProperties properties_{};
  VkPhysicalDeviceMemoryProperties memory_{};
  VkCommandPool uploadPool_ = VK_NULL_HANDLE;
  std::string deviceName_;
  VulkanBuffer weights_;
  std::vector<Kernel> kernels_;
};

class VulkanExecutor : public Executor {
public:
  /// A session's executor; null with `error` if the device cannot hold its buffers.
  static std::unique_ptr<VulkanExecutor> create(VulkanModel &model, const MappedArtifact &artifact,
                                                int64_t contextLength, int32_t *ids,
                                                float *logits, std::string &error);
  ~VulkanExecutor() override;

  bool run(int64_t tokens, int64_t startPos, int64_t logitsRows, std::string &error) override;

private:
  explicit VulkanExecutor(VulkanModel &model) : model_(model), api_(model.api_) {}
  bool createBuffers(const MappedArtifact &artifact, std::string &error);
  bool writeDescriptors(std::string &error);
  bool recordCommands(std::string &error);
  const VulkanBuffer &bufferOf(BufferKind kind) const;

  VulkanModel &model_;
  const VulkanApi &api_;
  int64_t contextLength_ = 0, maxChunk_ = 0, vocab_ = 0;
  int32_t *ids_ = nullptr; // the session's host buffers
  float *logits_ = nullptr;
  VulkanBuffer kvCache_, scratch_, tokenIds_, logitsBuffer_, params_, grids_;
  VkDescriptorPool descriptorPool_ = VK_NULL_HANDLE;
  std::vector<VkDescriptorSet> sets_;
  VkCommandPool commandPool_ = VK_NULL_HANDLE;
  VkCommandBuffer commands_ = VK_NULL_HANDLE;
  VkFence fence_ = VK_NULL_HANDLE;
};

} // namespace gemc
