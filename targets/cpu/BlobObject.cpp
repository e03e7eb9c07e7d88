//===- BlobObject.cpp - A file's bytes as a linkable read-only symbol -----===//
//
// Layout: ELF header, the blob at offset 4096, then .symtab, .strtab, .shstrtab and the section
// headers: [1] the blob, [2] .symtab, [3] .strtab, [4] .shstrtab, [5] an empty .note.GNU-stack
// (the object asks for no executable stack).
//
//===----------------------------------------------------------------------===//

#include "targets/cpu/BlobObject.h"

#include "runtime/common/Error.h"

#include <llvm/BinaryFormat/ELF.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MathExtras.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/raw_ostream.h>

#include <cstring>

namespace gemc {
namespace {

namespace elf = llvm::ELF;

constexpr uint64_t kBlobOffset = 4096;
constexpr uint64_t kAarch64Limit = uint64_t(1) << 30;

/// A string table under construction: names at their offsets.
struct StringTable {
  std::string bytes{'\0'};
  uint32_t add(llvm::StringRef name) {
    uint32_t offset = uint32_t(bytes.size());
    bytes += name.str() + '\0';
    return offset;
  }
};

template <typename T> void writeStruct(llvm::raw_ostream &os, const T &value) {
  os.write(reinterpret_cast<const char *>(&value), sizeof(T));
}

elf::Elf64_Shdr sectionHeader(uint32_t name, uint32_t type, uint64_t flags, uint64_t offset,
                              uint64_t size, uint64_t align) {
  elf::Elf64_Shdr header{};
  header.sh_name = name;
  header.sh_type = type;
  header.sh_flags = flags;
  header.sh_offset = offset;
  header.sh_size = size;
  header.sh_addralign = align;
  return header;
}

} // namespace

llvm::Error writeBlobObject(const std::string &objectPath, const CpuTarget &target,
                            const std::string &symbol, const std::string &sourcePath) {
  auto source = llvm::MemoryBuffer::getFile(sourcePath, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!source)
    return makeError("{}: cannot read: {}", sourcePath, source.getError().message());
  llvm::StringRef blob = (*source)->getBuffer();
  bool x86 = llvm::StringRef(target.triple).starts_with("x86_64");
  if (!x86 && blob.size() > kAarch64Limit)
    return makeError("--emit lib: {} bytes of weights are too many to link into an aarch64 "
                     "program (at most 1 GiB); use --lib-weights file",
                     blob.size());

  StringTable names, strings;
  uint32_t blobName = names.add(x86 ? ".lrodata.gemc" : ".rodata.gemc");
  uint32_t symtabName = names.add(".symtab"), strtabName = names.add(".strtab");
  uint32_t shstrtabName = names.add(".shstrtab"), stackName = names.add(".note.GNU-stack");
  elf::Elf64_Sym symbols[2] = {};
  symbols[1].st_name = strings.add(symbol);
  symbols[1].setBindingAndType(elf::STB_GLOBAL, elf::STT_OBJECT);
  symbols[1].st_shndx = 1;
  symbols[1].st_size = blob.size();

  uint64_t symtabOffset = llvm::alignTo(kBlobOffset + blob.size(), 8);
  uint64_t strtabOffset = symtabOffset + sizeof(symbols);
  uint64_t shstrtabOffset = strtabOffset + strings.bytes.size();
  uint64_t headersOffset = llvm::alignTo(shstrtabOffset + names.bytes.size(), 8);
  elf::Elf64_Shdr sections[6] = {
      {},
      sectionHeader(blobName, elf::SHT_PROGBITS,
                    elf::SHF_ALLOC | (x86 ? uint64_t(elf::SHF_X86_64_LARGE) : 0), kBlobOffset,
                    blob.size(), 4096),
      sectionHeader(symtabName, elf::SHT_SYMTAB, 0, symtabOffset, sizeof(symbols), 8),
      sectionHeader(strtabName, elf::SHT_STRTAB, 0, strtabOffset, strings.bytes.size(), 1),
      sectionHeader(shstrtabName, elf::SHT_STRTAB, 0, shstrtabOffset, names.bytes.size(), 1),
      sectionHeader(stackName, elf::SHT_PROGBITS, 0, headersOffset, 0, 1)};
  sections[2].sh_link = 3; // .symtab's names are in .strtab
  sections[2].sh_info = 1; // the first global symbol
  sections[2].sh_entsize = sizeof(elf::Elf64_Sym);

  elf::Elf64_Ehdr header{};
  std::memcpy(header.e_ident, elf::ElfMagic, 4);
  header.e_ident[elf::EI_CLASS] = elf::ELFCLASS64;
  header.e_ident[elf::EI_DATA] = elf::ELFDATA2LSB;
  header.e_ident[elf::EI_VERSION] = elf::EV_CURRENT;
  header.e_type = elf::ET_REL;
  header.e_machine = x86 ? elf::EM_X86_64 : elf::EM_AARCH64;
  header.e_version = elf::EV_CURRENT;
  header.e_shoff = headersOffset;
  header.e_ehsize = sizeof(header);
  header.e_shentsize = sizeof(elf::Elf64_Shdr);
  header.e_shnum = 6;
  header.e_shstrndx = 4;

  std::error_code ec;
  llvm::raw_fd_ostream os(objectPath, ec);
  if (ec)
    return makeError("{}: cannot write: {}", objectPath, ec.message());
  writeStruct(os, header);
  os.write_zeros(kBlobOffset - sizeof(header));
  constexpr size_t kPiece = size_t(64) << 20;
  for (size_t done = 0; done < blob.size(); done += kPiece)
    os << blob.substr(done, kPiece);
  os.write_zeros(symtabOffset - kBlobOffset - blob.size());
  writeStruct(os, symbols);
  os << strings.bytes << names.bytes;
  os.write_zeros(headersOffset - shstrtabOffset - names.bytes.size());
  writeStruct(os, sections);
  os.close();
  if (os.has_error()) {
    std::string reason = os.error().message();
    os.clear_error();
    return makeError("{}: write failed: {}", objectPath, reason);
  }
  return llvm::Error::success();
}

} // namespace gemc
