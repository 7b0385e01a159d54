// The plumbing under every reader and writer: the format registry, atomic replacement of files,
// and the SHA-256 that identifies input files in provenance and replay.
#include <fstream>
#include <sstream>

#include "IoTestSupport.hpp"
#include "io/AtomicFile.hpp"
#include "io/Formats.hpp"

namespace ptyx {
namespace {

using namespace ptyx::test;

std::string contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void put(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// --- registry -------------------------------------------------------------------------------

TEST(FormatRegistry, BuiltinFormatsOfferCxi) {
  EXPECT_EQ(builtinFormats().readerFormats(), std::vector<std::string>{"cxi"});
  EXPECT_EQ(builtinFormats().scanWriter("cxi").format(), "cxi");
  EXPECT_EQ(builtinFormats().resultWriter("cxi").format(), "cxi");
  writeScan(makeScan(), "registry.cxi");
  EXPECT_EQ(builtinFormats().readerFor("registry.cxi").format(), "cxi");
}

TEST(FormatRegistry, UnknownFileNamesTheKnownFormats) {
  put("table.csv", "x,y\n1,2\n");
  expectInputError([] { (void)builtinFormats().readerFor("table.csv"); }, "table.csv", "",
                   {"known formats: cxi"});
  // HDF5, but not CXI: no /entry_1.
  { RawH5("other.h5").scalar("/something", 1.0); }
  expectInputError([] { (void)readScan("other.h5"); }, "other.h5", "", {"known formats: cxi"});
}

TEST(FormatRegistry, MissingFileSaysSo) {
  expectInputError([] { (void)builtinFormats().readerFor("gone.cxi"); }, "gone.cxi", "",
                   {"no such file"});
}

TEST(FormatRegistry, UnknownWriterFormatNamesTheKnownOnes) {
  try {
    (void)builtinFormats().scanWriter("tiff");
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("tiff"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("known formats: cxi"), std::string::npos) << e.what();
  }
}

TEST(FormatRegistry, AnEmptyRegistryAcceptsNothing) {
  FormatRegistry registry;
  writeScan(makeScan(), "empty_registry.cxi");
  expectInputError([&registry] { (void)registry.readerFor("empty_registry.cxi"); },
                   "empty_registry.cxi", "", {"known formats: none"});
  registerCxi(registry);
  EXPECT_EQ(registry.readerFor("empty_registry.cxi").format(), "cxi");
}

// --- atomic files ---------------------------------------------------------------------------

TEST(AtomicFile, TemporaryIsHiddenBesideTheTargetAndUnique) {
  const auto directory = freshDirectory("atomic_names");
  const std::string target = (directory / "out.cxi").string();
  const AtomicFile first(target);
  const AtomicFile second(target);
  const std::filesystem::path temp(first.tempPath());
  EXPECT_EQ(temp.parent_path(), directory);
  EXPECT_EQ(temp.filename().string().rfind(".out.cxi.tmp.", 0), 0U) << temp;
  EXPECT_NE(first.tempPath(), second.tempPath());
}

TEST(AtomicFile, UncommittedTemporaryIsRemoved) {
  const auto directory = freshDirectory("atomic_abandon");
  const std::string target = (directory / "out.txt").string();
  {
    const AtomicFile file(target);
    put(file.tempPath(), "half written");
    EXPECT_TRUE(std::filesystem::exists(file.tempPath()));
  }
  EXPECT_TRUE(filesIn(directory).empty());
}

TEST(AtomicFile, CommitReplacesAnExistingFile) {
  const auto directory = freshDirectory("atomic_replace");
  const std::string target = (directory / "out.txt").string();
  put(target, "old");
  {
    AtomicFile file(target);
    put(file.tempPath(), "new contents");
    EXPECT_EQ(contents(target), "old");  // untouched until the commit
    file.commit();
  }
  EXPECT_EQ(contents(target), "new contents");
  EXPECT_EQ(filesIn(directory), std::set<std::string>{"out.txt"});
}

TEST(AtomicFile, CommitWithoutATemporaryFailsAndKeepsTheTarget) {
  const auto directory = freshDirectory("atomic_nothing");
  const std::string target = (directory / "out.txt").string();
  put(target, "old");
  AtomicFile file(target);
  EXPECT_THROW(file.commit(), Error);
  EXPECT_EQ(contents(target), "old");
}

TEST(AtomicFile, MissingDirectoryIsAnError) {
  try {
    const AtomicFile file("no/such/dir/out.txt");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no/such/dir"), std::string::npos) << e.what();
  }
}

TEST(AtomicFile, BareFileNameWritesInTheWorkingDirectory) {
  std::filesystem::remove("bare.txt");
  {
    AtomicFile file("bare.txt");
    put(file.tempPath(), "here");
    file.commit();
  }
  EXPECT_EQ(contents("bare.txt"), "here");
}

// --- SHA-256 (FIPS 180-4 examples) ----------------------------------------------------------

TEST(FileSha256, KnownVectors) {
  put("abc.txt", "abc");
  EXPECT_EQ(fileSha256("abc.txt"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  put("empty.txt", "");
  EXPECT_EQ(fileSha256("empty.txt"),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  put("two_blocks.txt", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
  EXPECT_EQ(fileSha256("two_blocks.txt"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(FileSha256, MillionAsSpanManyReadBuffers) {
  put("million.txt", std::string(1000000, 'a'));
  EXPECT_EQ(fileSha256("million.txt"),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(FileSha256, MissingFileIsAnInputError) {
  expectInputError([] { (void)fileSha256("nothing.bin"); }, "nothing.bin", "");
}

}  // namespace
}  // namespace ptyx
