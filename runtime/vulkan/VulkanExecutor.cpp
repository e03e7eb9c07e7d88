//===- VulkanExecutor.cpp - Runs a dispatch table on a Vulkan device -----------===//

#include "runtime/vulkan/VulkanExecutor.h"

#include <algorithm>
#include <cstring>
#include <functional>

namespace gemc {
namespace {

constexpr uint32_t kMaxGroupsPerDimension = 65535; // the least every device supports
constexpr uint64_t kUploadChunk = 64ull << 20;

std::string failed(const std::string &what, VkResult result) {
  return what + " failed (VkResult " + std::to_string(int(result)) + ")";
}

/// Ranks device types: discrete GPUs first, CPU implementations (lavapipe) last.
int preference(VkPhysicalDeviceType type) {
  switch (type) {
  case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
  case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
  case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
  case VK_PHYSICAL_DEVICE_TYPE_CPU: return 3;
  default: return 4;
  }
}

/// The features the kernels use (8/16-bit storage, f16, i8/i16/i64, subgroup arithmetic),
/// chained for vkGetPhysicalDeviceFeatures2 and vkCreateDevice.
struct RequiredFeatures {
  VkPhysicalDevice16BitStorageFeatures storage16{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
  VkPhysicalDevice8BitStorageFeatures storage8{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES, &storage16};
  VkPhysicalDeviceShaderFloat16Int8Features float16Int8{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES, &storage8};
  VkPhysicalDeviceFeatures2 features{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                     &float16Int8};

  /// The first feature missing, or "".
  std::string missing() const {
    if (!storage16.storageBuffer16BitAccess) return "storageBuffer16BitAccess";
    if (!storage8.storageBuffer8BitAccess) return "storageBuffer8BitAccess";
    if (!float16Int8.shaderFloat16) return "shaderFloat16";
    if (!float16Int8.shaderInt8) return "shaderInt8";
    if (!features.features.shaderInt16) return "shaderInt16";
    if (!features.features.shaderInt64) return "shaderInt64";
    return "";
  }
  /// Only what the kernels need, switched on.
  void keepRequired() {
    features.features = {};
    features.features.shaderInt16 = features.features.shaderInt64 = VK_TRUE;
    storage16 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES, nullptr, VK_TRUE};
    storage8 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES, &storage16, VK_TRUE};
    float16Int8 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES, &storage8,
                   VK_TRUE, VK_TRUE};
    features.pNext = &float16Int8;
  }
};

} // namespace

std::unique_ptr<VulkanModel> VulkanModel::open(const MappedArtifact &artifact, int32_t device,
                                               std::string &error) {
  std::unique_ptr<VulkanModel> model(new VulkanModel());
  if (!model->api_.loadLibrary(error))
    return nullptr;
  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "gemc";
  app.apiVersion = VK_API_VERSION_1_1;
  VkInstanceCreateInfo info{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  info.pApplicationInfo = &app;
  if (VkResult r = model->api_.CreateInstance(&info, nullptr, &model->instance_); r != VK_SUCCESS) {
    error = "this artifact runs on Vulkan: " + failed("vkCreateInstance", r) +
            " (is a Vulkan driver installed?)";
    return nullptr;
  }
  if (!model->api_.loadInstanceFunctions(model->instance_, error) ||
      !model->pickDevice(device, error) || !model->createDevice(error) ||
      !model->createKernels(artifact, error) || !model->uploadWeights(artifact, error))
    return nullptr;
  return model;
}

bool VulkanModel::pickDevice(int32_t index, std::string &error) {
  uint32_t count = 0;
  api_.EnumeratePhysicalDevices(instance_, &count, nullptr);
  std::vector<VkPhysicalDevice> devices(count);
  api_.EnumeratePhysicalDevices(instance_, &count, devices.data());
  if (devices.empty()) {
    error = "this artifact runs on Vulkan, but the Vulkan loader finds no device";
    return false;
  }
  if (index >= int32_t(devices.size())) {
    error = "--device " + std::to_string(index) + ": there are only " +
            std::to_string(devices.size()) + " Vulkan devices (0 to " +
            std::to_string(devices.size() - 1) + ")";
    return false;
  }
  auto typeOf = [&](VkPhysicalDevice d) {
    VkPhysicalDeviceProperties p;
    api_.GetPhysicalDeviceProperties(d, &p);
    return p.deviceType;
  };
  physical_ = index >= 0 ? devices[index]
                         : *std::min_element(devices.begin(), devices.end(), [&](auto a, auto b) {
                             return preference(typeOf(a)) < preference(typeOf(b));
                           });
  api_.GetPhysicalDeviceProperties(physical_, &properties_);
  api_.GetPhysicalDeviceMemoryProperties(physical_, &memory_);
  deviceName_ = properties_.deviceName;
  return true;
}

bool VulkanModel::createDevice(std::string &error) {
  RequiredFeatures features;
  api_.GetPhysicalDeviceFeatures2(physical_, &features.features);
  VkPhysicalDeviceSubgroupProperties subgroup{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
  VkPhysicalDeviceProperties2 properties{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, &subgroup};
  api_.GetPhysicalDeviceProperties2(physical_, &properties);
  std::string missing = features.missing();
  if (missing.empty() && !(subgroup.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT))
    missing = "subgroup arithmetic";
  if (properties_.apiVersion < VK_API_VERSION_1_1)
    missing = "Vulkan 1.1";
  if (!missing.empty()) {
    error = "the Vulkan device " + deviceName_ + " lacks " + missing + ", which gemc's kernels use";
    return false;
  }
  uint32_t families = 0;
  api_.GetPhysicalDeviceQueueFamilyProperties(physical_, &families, nullptr);
  std::vector<VkQueueFamilyProperties> queues(families);
  api_.GetPhysicalDeviceQueueFamilyProperties(physical_, &families, queues.data());
  auto compute = std::find_if(queues.begin(), queues.end(), [](const auto &q) {
    return (q.queueFlags & VK_QUEUE_COMPUTE_BIT) != 0;
  });
  if (compute == queues.end()) {
    error = "the Vulkan device " + deviceName_ + " has no compute queue";
    return false;
  }
  queueFamily_ = uint32_t(compute - queues.begin());
  float priority = 1.0f;
  VkDeviceQueueCreateInfo queue{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  queue.queueFamilyIndex = queueFamily_;
  queue.queueCount = 1;
  queue.pQueuePriorities = &priority;
  features.keepRequired();
  VkDeviceCreateInfo info{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, &features.features};
  info.queueCreateInfoCount = 1;
  info.pQueueCreateInfos = &queue;
  if (VkResult r = api_.CreateDevice(physical_, &info, nullptr, &device_); r != VK_SUCCESS) {
    error = failed("vkCreateDevice", r);
    return false;
  }
  if (!api_.loadDeviceFunctions(device_, error))
    return false;
  api_.GetDeviceQueue(device_, queueFamily_, 0, &queue_);
  VkCommandPoolCreateInfo pool{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  pool.queueFamilyIndex = queueFamily_;
  pool.flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT;
  if (VkResult r = api_.CreateCommandPool(device_, &pool, nullptr, &uploadPool_); r != VK_SUCCESS) {
    error = failed("vkCreateCommandPool", r);
    return false;
  }
  return true;
}

bool VulkanModel::createKernels(const MappedArtifact &artifact, std::string &error) {
  uint64_t codeSize = 0;
  const uint8_t *code = artifact.section("spirv", &codeSize);
  for (const artifact::Dispatch *d : *artifact.manifest().dispatches()) {
    Kernel &kernel = kernels_.emplace_back();
    kernel.perToken = d->workgroups_per_token();
    kernel.fixed = d->workgroups_fixed();
    kernel.bindings = bindingsOf(*d);
    VkShaderModuleCreateInfo module{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
    module.codeSize = d->code_size();
    module.pCode = reinterpret_cast<const uint32_t *>(code + d->code_offset());
    std::vector<VkDescriptorSetLayoutBinding> slots(kernel.bindings.size() + 1);
    for (uint32_t i = 0; i < slots.size(); ++i)
      slots[i] = {i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
    VkDescriptorSetLayoutCreateInfo set{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
    set.bindingCount = uint32_t(slots.size());
    set.pBindings = slots.data();
    VkResult r = api_.CreateShaderModule(device_, &module, nullptr, &kernel.module);
    if (r == VK_SUCCESS)
      r = api_.CreateDescriptorSetLayout(device_, &set, nullptr, &kernel.setLayout);
    VkPipelineLayoutCreateInfo layout{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
    layout.setLayoutCount = 1;
    layout.pSetLayouts = &kernel.setLayout;
    if (r == VK_SUCCESS)
      r = api_.CreatePipelineLayout(device_, &layout, nullptr, &kernel.layout);
    VkComputePipelineCreateInfo pipeline{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
    pipeline.stage = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
    pipeline.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    pipeline.stage.module = kernel.module;
    pipeline.stage.pName = kSpirvEntryPoint;
    pipeline.layout = kernel.layout;
    if (r == VK_SUCCESS)
      r = api_.CreateComputePipelines(device_, VK_NULL_HANDLE, 1, &pipeline, nullptr,
                                      &kernel.pipeline);
    if (r != VK_SUCCESS) {
      error = "kernel " + d->kernel()->str() + ": " + failed("creating its pipeline", r);
      return false;
    }
  }
  return true;
}

bool VulkanModel::createBuffer(uint64_t size, VkBufferUsageFlags usage, bool hostVisible,
                               VulkanBuffer &buffer, std::string &error) {
  buffer.size = std::max<uint64_t>(size, 4);
  VkBufferCreateInfo info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  info.size = buffer.size;
  info.usage = usage;
  info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  if (VkResult r = api_.CreateBuffer(device_, &info, nullptr, &buffer.buffer); r != VK_SUCCESS) {
    error = failed("vkCreateBuffer", r);
    return false;
  }
  VkMemoryRequirements needs;
  api_.GetBufferMemoryRequirements(device_, buffer.buffer, &needs);
  VkMemoryPropertyFlags wanted = hostVisible ? VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                                   VK_MEMORY_PROPERTY_HOST_COHERENT_BIT
                                             : VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
  uint32_t type = memory_.memoryTypeCount;
  for (uint32_t i = 0; i < memory_.memoryTypeCount && type == memory_.memoryTypeCount; ++i)
    if ((needs.memoryTypeBits & (1u << i)) &&
        (memory_.memoryTypes[i].propertyFlags & wanted) == wanted)
      type = i;
  VkMemoryAllocateInfo allocate{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  allocate.allocationSize = needs.size;
  allocate.memoryTypeIndex = type;
  VkResult r = type == memory_.memoryTypeCount
                   ? VK_ERROR_FEATURE_NOT_PRESENT
                   : api_.AllocateMemory(device_, &allocate, nullptr, &buffer.memory);
  if (r == VK_SUCCESS)
    r = api_.BindBufferMemory(device_, buffer.buffer, buffer.memory, 0);
  if (r == VK_SUCCESS && hostVisible)
    r = api_.MapMemory(device_, buffer.memory, 0, VK_WHOLE_SIZE, 0, &buffer.mapped);
  if (r != VK_SUCCESS) {
    error = "cannot allocate " + std::to_string(size) + " bytes of " +
            (hostVisible ? "host-visible" : "device") + " memory on " + deviceName_ + ": " +
            failed("vkAllocateMemory", r);
    return false;
  }
  return true;
}

void VulkanModel::destroyBuffer(VulkanBuffer &buffer) {
  if (buffer.buffer)
    api_.DestroyBuffer(device_, buffer.buffer, nullptr);
  if (buffer.memory)
    api_.FreeMemory(device_, buffer.memory, nullptr);
  buffer = {};
}

bool VulkanModel::submitOnce(const std::function<void(VkCommandBuffer)> &record,
                             std::string &error) {
  VkCommandBufferAllocateInfo allocate{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  allocate.commandPool = uploadPool_;
  allocate.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  allocate.commandBufferCount = 1;
  VkCommandBuffer commands;
  VkResult r = api_.AllocateCommandBuffers(device_, &allocate, &commands);
  VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  if (r == VK_SUCCESS)
    r = api_.BeginCommandBuffer(commands, &begin);
  if (r == VK_SUCCESS) {
    record(commands);
    r = api_.EndCommandBuffer(commands);
  }
  VkFence fence = VK_NULL_HANDLE;
  VkFenceCreateInfo fenceInfo{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  if (r == VK_SUCCESS)
    r = api_.CreateFence(device_, &fenceInfo, nullptr, &fence);
  VkSubmitInfo submit{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  submit.commandBufferCount = 1;
  submit.pCommandBuffers = &commands;
  if (r == VK_SUCCESS)
    r = api_.QueueSubmit(queue_, 1, &submit, fence);
  if (r == VK_SUCCESS)
    r = api_.WaitForFences(device_, 1, &fence, VK_TRUE, UINT64_MAX);
  if (fence)
    api_.DestroyFence(device_, fence, nullptr);
  if (r != VK_SUCCESS)
    error = failed("a transfer to the Vulkan device", r);
  return r == VK_SUCCESS;
}

bool VulkanModel::uploadWeights(const MappedArtifact &artifact, std::string &error) {
  uint64_t size = 0;
  const uint8_t *weights = artifact.weights(&size);
  VulkanBuffer staging;
  bool ok = createBuffer(size, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                                   VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                         false, weights_, error) &&
            createBuffer(std::min(size, kUploadChunk), VK_BUFFER_USAGE_TRANSFER_SRC_BIT, true,
                         staging, error);
  for (uint64_t done = 0; ok && done < size; done += kUploadChunk) {
    uint64_t bytes = std::min(kUploadChunk, size - done);
    std::memcpy(staging.mapped, weights + done, bytes);
    ok = submitOnce(
        [&](VkCommandBuffer commands) {
          VkBufferCopy copy{0, done, bytes};
          api_.CmdCopyBuffer(commands, staging.buffer, weights_.buffer, 1, &copy);
        },
        error);
  }
  destroyBuffer(staging);
  return ok;
}

VulkanModel::~VulkanModel() {
  if (device_) {
    for (Kernel &k : kernels_) {
      api_.DestroyPipeline(device_, k.pipeline, nullptr);
      api_.DestroyPipelineLayout(device_, k.layout, nullptr);
      api_.DestroyDescriptorSetLayout(device_, k.setLayout, nullptr);
      api_.DestroyShaderModule(device_, k.module, nullptr);
    }
    destroyBuffer(weights_);
    if (uploadPool_)
      api_.DestroyCommandPool(device_, uploadPool_, nullptr);
    api_.DestroyDevice(device_, nullptr);
  }
  if (instance_)
    api_.DestroyInstance(instance_, nullptr);
}

std::unique_ptr<VulkanExecutor> VulkanExecutor::create(VulkanModel &model,
                                                       const MappedArtifact &artifact,
                                                       int64_t contextLength, int32_t *ids,
                                                       float *logits, std::string &error) {
  std::unique_ptr<VulkanExecutor> executor(new VulkanExecutor(model));
  executor->contextLength_ = contextLength;
  executor->maxChunk_ = artifact.manifest().plan()->max_chunk();
  executor->vocab_ = artifact.manifest().model()->vocab_size();
  executor->ids_ = ids;
  executor->logits_ = logits;
  if (!executor->createBuffers(artifact, error) || !executor->writeDescriptors(error) ||
      !executor->recordCommands(error))
    return nullptr;
  return executor;
}

bool VulkanExecutor::createBuffers(const MappedArtifact &artifact, std::string &error) {
  const artifact::MemoryPlan &plan = *artifact.manifest().plan();
  uint64_t kvBytes = kvCacheBytes(plan, contextLength_);
  VkBufferUsageFlags storage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
  bool ok =
      model_.createBuffer(kvBytes, storage | VK_BUFFER_USAGE_TRANSFER_DST_BIT, false, kvCache_,
                          error) &&
      model_.createBuffer(plan.scratch_bytes(), storage, false, scratch_, error) &&
      model_.createBuffer(uint64_t(maxChunk_) * 4, storage, true, tokenIds_, error) &&
      model_.createBuffer(uint64_t(maxChunk_ * vocab_) * 4, storage, true, logitsBuffer_, error) &&
      model_.createBuffer(kParamCount * 4, storage, true, params_, error) &&
      model_.createBuffer(model_.kernels_.size() * sizeof(VkDispatchIndirectCommand),
                          VK_BUFFER_USAGE_INDIRECT_BUFFER_BIT, true, grids_, error);
  // A fresh cache reads as zeros, as on the CPU.
  return ok && model_.submitOnce(
                   [&](VkCommandBuffer commands) {
                     api_.CmdFillBuffer(commands, kvCache_.buffer, 0, VK_WHOLE_SIZE, 0);
                   },
                   error);
}

const VulkanBuffer &VulkanExecutor::bufferOf(BufferKind kind) const {
  switch (kind) {
  case BufferKind::Weights: return model_.weights_;
  case BufferKind::KvCache: return kvCache_;
  case BufferKind::Scratch: return scratch_;
  case BufferKind::TokenIds: return tokenIds_;
  case BufferKind::Logits: return logitsBuffer_;
  }
  return scratch_;
}

bool VulkanExecutor::writeDescriptors(std::string &error) {
  const std::vector<VulkanModel::Kernel> &kernels = model_.kernels_;
  uint32_t descriptors = 0;
  for (const auto &k : kernels)
    descriptors += uint32_t(k.bindings.size() + 1);
  VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, descriptors};
  VkDescriptorPoolCreateInfo pool{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
  pool.maxSets = uint32_t(kernels.size());
  pool.poolSizeCount = 1;
  pool.pPoolSizes = &size;
  VkResult r = api_.CreateDescriptorPool(model_.device_, &pool, nullptr, &descriptorPool_);
  std::vector<VkDescriptorSetLayout> layouts;
  for (const auto &k : kernels)
    layouts.push_back(k.setLayout);
  VkDescriptorSetAllocateInfo allocate{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
  allocate.descriptorPool = descriptorPool_;
  allocate.descriptorSetCount = uint32_t(layouts.size());
  allocate.pSetLayouts = layouts.data();
  sets_.resize(layouts.size());
  if (r == VK_SUCCESS)
    r = api_.AllocateDescriptorSets(model_.device_, &allocate, sets_.data());
  if (r != VK_SUCCESS) {
    error = failed("allocating descriptor sets", r);
    return false;
  }
  const VkPhysicalDeviceLimits &limits = model_.properties_.limits;
  for (size_t d = 0; d < kernels.size(); ++d) {
    std::vector<VkDescriptorBufferInfo> infos{{params_.buffer, 0, VK_WHOLE_SIZE}};
    for (const BindingRange &b : kernels[d].bindings) {
      uint64_t offset = b.offsetAt(contextLength_), bytes = b.bytesAt(contextLength_);
      bool whole = b.buffer == BufferKind::TokenIds || b.buffer == BufferKind::Logits;
      if (!whole && (offset % limits.minStorageBufferOffsetAlignment ||
                     bytes > limits.maxStorageBufferRange)) {
        error = "dispatch " + std::to_string(d) + " binds " + std::to_string(bytes) +
                " bytes at offset " + std::to_string(offset) + ", beyond what " +
                model_.deviceName_ + " allows in one binding (" +
                std::to_string(limits.maxStorageBufferRange) + " bytes, offsets a multiple of " +
                std::to_string(limits.minStorageBufferOffsetAlignment) + ")";
        return false;
      }
      infos.push_back({bufferOf(b.buffer).buffer, whole ? 0 : offset,
                       whole ? VK_WHOLE_SIZE : std::max<uint64_t>(bytes, 4)});
    }
    std::vector<VkWriteDescriptorSet> writes;
    for (uint32_t i = 0; i < infos.size(); ++i) {
      VkWriteDescriptorSet write{VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
      write.dstSet = sets_[d];
      write.dstBinding = i;
      write.descriptorCount = 1;
      write.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
      write.pBufferInfo = &infos[i];
      writes.push_back(write);
    }
    api_.UpdateDescriptorSets(model_.device_, uint32_t(writes.size()), writes.data(), 0, nullptr);
  }
  return true;
}

bool VulkanExecutor::recordCommands(std::string &error) {
  VkCommandPoolCreateInfo pool{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  pool.queueFamilyIndex = model_.queueFamily_;
  VkResult r = api_.CreateCommandPool(model_.device_, &pool, nullptr, &commandPool_);
  VkCommandBufferAllocateInfo allocate{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  allocate.commandPool = commandPool_;
  allocate.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  allocate.commandBufferCount = 1;
  if (r == VK_SUCCESS)
    r = api_.AllocateCommandBuffers(model_.device_, &allocate, &commands_);
  VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  if (r == VK_SUCCESS)
    r = api_.BeginCommandBuffer(commands_, &begin);
  if (r != VK_SUCCESS) {
    error = failed("recording the command buffer", r);
    return false;
  }
  // Each dispatch sees everything the earlier ones wrote.
  VkMemoryBarrier barrier{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  barrier.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
  barrier.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
  for (size_t d = 0; d < model_.kernels_.size(); ++d) {
    const VulkanModel::Kernel &k = model_.kernels_[d];
    api_.CmdBindPipeline(commands_, VK_PIPELINE_BIND_POINT_COMPUTE, k.pipeline);
    api_.CmdBindDescriptorSets(commands_, VK_PIPELINE_BIND_POINT_COMPUTE, k.layout, 0, 1,
                               &sets_[d], 0, nullptr);
    api_.CmdDispatchIndirect(commands_, grids_.buffer, d * sizeof(VkDispatchIndirectCommand));
    api_.CmdPipelineBarrier(commands_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                            VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &barrier, 0, nullptr, 0,
                            nullptr);
  }
  VkFenceCreateInfo fence{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  r = api_.EndCommandBuffer(commands_);
  if (r == VK_SUCCESS)
    r = api_.CreateFence(model_.device_, &fence, nullptr, &fence_);
  if (r != VK_SUCCESS) {
    error = failed("recording the command buffer", r);
    return false;
  }
  return true;
}

bool VulkanExecutor::run(int64_t tokens, int64_t startPos, int64_t logitsRows,
                         std::string &error) {
  std::memcpy(tokenIds_.mapped, ids_, size_t(tokens) * sizeof(int32_t));
  int32_t params[kParamCount] = {int32_t(tokens), int32_t(startPos), int32_t(contextLength_),
                                 int32_t(logitsRows)};
  std::memcpy(params_.mapped, params, sizeof(params));
  auto *grids = static_cast<VkDispatchIndirectCommand *>(grids_.mapped);
  for (size_t d = 0; d < model_.kernels_.size(); ++d) {
    const VulkanModel::Kernel &k = model_.kernels_[d];
    uint64_t groups = uint64_t(k.perToken * tokens + k.fixed);
    uint32_t x = uint32_t(std::min<uint64_t>(groups, kMaxGroupsPerDimension));
    grids[d] = {x, x ? uint32_t((groups + x - 1) / x) : 0, 1};
  }
  VkSubmitInfo submit{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  submit.commandBufferCount = 1;
  submit.pCommandBuffers = &commands_;
  VkResult r = api_.ResetFences(model_.device_, 1, &fence_);
  if (r == VK_SUCCESS)
    r = api_.QueueSubmit(model_.queue_, 1, &submit, fence_);
  if (r == VK_SUCCESS)
    r = api_.WaitForFences(model_.device_, 1, &fence_, VK_TRUE, UINT64_MAX);
  if (r != VK_SUCCESS) {
    error = failed("running the forward step on " + model_.deviceName_, r);
    return false;
  }
  std::memcpy(logits_, logitsBuffer_.mapped, size_t(logitsRows * vocab_) * sizeof(float));
  return true;
}

VulkanExecutor::~VulkanExecutor() {
  VkDevice device = model_.device_;
  if (fence_)
    api_.DestroyFence(device, fence_, nullptr);
  if (commandPool_)
    api_.DestroyCommandPool(device, commandPool_, nullptr);
  if (descriptorPool_)
    api_.DestroyDescriptorPool(device, descriptorPool_, nullptr);
  for (VulkanBuffer *b : {&kvCache_, &scratch_, &tokenIds_, &logitsBuffer_, &params_, &grids_})
    model_.destroyBuffer(*b);
}

} // namespace gemc
