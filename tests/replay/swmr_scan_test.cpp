// Growing scan files (HDF5 SWMR): what a reader sees while another process writes, and what
// `ptyx stream-replay` leaves behind. The writer runs in a forked child, as it would in a real
// acquisition (one process writes, others read).
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <string>

#include <hdf5.h>

#include "core/Error.hpp"
#include "io/Formats.hpp"
#include "io/SwmrScan.hpp"
#include "support/RunPtyx.hpp"
#include "support/TinyScans.hpp"

namespace fs = std::filesystem;

namespace ptyx {
namespace {

/// A one-byte message over a pipe: the two processes take turns.
class Channel {
 public:
  Channel() {
    if (pipe(fds_) != 0) throw std::runtime_error("pipe");
  }
  ~Channel() {
    close(fds_[0]);
    close(fds_[1]);
  }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  void send(char c) { (void)!write(fds_[1], &c, 1); }
  char receive() {
    char c = 0;
    return read(fds_[0], &c, 1) == 1 ? c : '\0';
  }

 private:
  int fds_[2] = {-1, -1};
};

/// Runs `writer` in a child process; returns its pid. The child exits 0 when it returned.
template <class Fn>
pid_t inChild(Fn&& writer) {
  const pid_t pid = fork();
  if (pid == 0) {
    int code = 0;
    try {
      writer();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "writer: %s\n", e.what());
      code = 1;
    }
    _exit(code);
  }
  return pid;
}

int exitCode(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// Frame j holds magnitude j + 1 everywhere: a torn frame would show mixed values.
Scan labelledScan(std::size_t frames) {
  Scan scan = testing::smallScan(frames, 16);
  for (std::size_t j = 0; j < frames; ++j) {
    for (float& a : scan.magnitudes.frame(j)) a = static_cast<float>(j + 1);
  }
  return scan;
}

std::span<const float> framesOf(const Scan& scan, std::size_t first, std::size_t count) {
  const std::size_t pixels = scan.frameSize() * scan.frameSize();
  return scan.magnitudes.span().subspan(first * pixels, count * pixels);
}

std::span<const Position> positionsOf(const Scan& scan, std::size_t first, std::size_t count) {
  return std::span<const Position>(scan.positions).subspan(first, count);
}

TEST(SwmrScan, StagedFramesStayInvisibleUntilPublished) {
  const std::string path = "staged.cxi";
  const Scan scan = labelledScan(8);
  Channel toReader;
  Channel toWriter;
  const pid_t child = inChild([&] {
    SwmrScanWriter writer(path, scan, 100.0);
    writer.append(framesOf(scan, 0, 3), positionsOf(scan, 0, 3));
    writer.stage(framesOf(scan, 3, 2), positionsOf(scan, 3, 2));  // written, not published
    toReader.send('a');
    toWriter.receive();
    writer.publish();
    toReader.send('b');
    toWriter.receive();
    writer.append(framesOf(scan, 5, 3), positionsOf(scan, 5, 3));
    writer.finish();
    toReader.send('c');
  });
  ASSERT_EQ(toReader.receive(), 'a');
  {
    SwmrScanReader reader(path);
    EXPECT_EQ(reader.framesPlanned(), 8U);
    EXPECT_EQ(reader.header().positions.size(), 8U) << "the planned scan is known up front";
    EXPECT_TRUE(reader.header().truth.has_value());
    EXPECT_EQ(reader.framesAvailable(), 3U) << "frames staged but not published must not show";
    EXPECT_FALSE(reader.complete());
    EXPECT_THROW((void)reader.readMagnitudes(3, 1), InputError);
    const Stack<float> first = reader.readMagnitudes(0, 3);
    for (std::size_t j = 0; j < 3; ++j) {
      for (const float a : first.frame(j)) ASSERT_FLOAT_EQ(a, static_cast<float>(j + 1));
    }
    toWriter.send('x');
    ASSERT_EQ(toReader.receive(), 'b');
    EXPECT_EQ(reader.poll(), 5U);
    EXPECT_FALSE(reader.complete());
    const Stack<float> more = reader.readMagnitudes(3, 2);
    EXPECT_FLOAT_EQ(more.frame(1)[0], 5.0F);
    toWriter.send('y');
    ASSERT_EQ(toReader.receive(), 'c');
    EXPECT_EQ(reader.poll(), 8U);
    EXPECT_TRUE(reader.complete());
    const auto positions = reader.readPositions(0, 8);
    for (std::size_t j = 0; j < 8; ++j) {
      EXPECT_NEAR(positions[j].row, scan.positions[j].row, 1e-9);
      EXPECT_NEAR(positions[j].col, scan.positions[j].col, 1e-9);
    }
    const auto times = reader.readArrivalTimes(0, 8);
    EXPECT_LE(times[0], times[7]);
  }
  EXPECT_EQ(exitCode(child), 0);

  // Finished, the file is an ordinary CXI scan.
  const Scan back = readScan(path);
  ASSERT_EQ(back.frameCount(), 8U);
  EXPECT_FLOAT_EQ(back.magnitudes.frame(7)[0], 8.0F);
}

TEST(SwmrScan, ConcurrentReaderNeverSeesAPartFrame) {
  const std::string path = "concurrent.cxi";
  const std::size_t total = 120;
  const Scan scan = labelledScan(total);
  Channel toReader;
  const pid_t child = inChild([&] {
    SwmrScanWriter writer(path, scan, 1000.0);
    toReader.send('s');
    for (std::size_t j = 0; j < total; ++j) {
      writer.append(framesOf(scan, j, 1), positionsOf(scan, j, 1));
      if (j % 10 == 0) usleep(2000);  // give the reader a chance to look mid-scan
    }
    writer.finish();
  });
  ASSERT_EQ(toReader.receive(), 's');
  SwmrScanReader reader(path);
  std::size_t seen = 0;
  for (bool done = false; !done;) {
    done = reader.complete();  // before the poll: a complete scan still gets its last look
    const std::size_t available = reader.poll();
    if (available > seen) {
      const Stack<float> frames = reader.readMagnitudes(seen, available - seen);
      for (std::size_t k = 0; k < frames.count(); ++k) {
        for (const float a : frames.frame(k)) {
          ASSERT_EQ(a, static_cast<float>(seen + k + 1)) << "frame " << seen + k << " read torn";
        }
      }
      seen = available;
    }
  }
  EXPECT_EQ(seen, total);
  EXPECT_EQ(exitCode(child), 0);
}

TEST(SwmrScan, AWriterThatStoppedLeavesItsPublishedFramesAndIsNamedToPlainReaders) {
  const Scan scan = labelledScan(10);
  // Interrupted: the writer is closed without finish().
  EXPECT_EQ(exitCode(inChild([&] {
              SwmrScanWriter writer("interrupted.cxi", scan, 100.0);
              writer.append(framesOf(scan, 0, 4), positionsOf(scan, 0, 4));
            })),
            0);
  // Crashed: the process ends holding the file open (_exit runs no destructors).
  const pid_t crashing = fork();
  if (crashing == 0) {
    SwmrScanWriter writer("crashed.cxi", scan, 100.0);
    writer.append(framesOf(scan, 0, 3), positionsOf(scan, 0, 3));
    _exit(0);
  }
  EXPECT_EQ(exitCode(crashing), 0);

  for (const char* file : {"interrupted.cxi", "crashed.cxi"}) {
    SwmrScanReader reader(file);
    EXPECT_FALSE(reader.complete()) << file << ": never marked complete";
    EXPECT_GE(reader.framesAvailable(), 3U);
    EXPECT_FLOAT_EQ(reader.readMagnitudes(2, 1).frame(0)[0], 3.0F);
  }
  try {
    (void)readScan("crashed.cxi");
    FAIL() << "a plain read of a file its writer still holds succeeded";
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), swmr::kGroup);
    EXPECT_NE(std::string(e.what()).find("--follow"), std::string::npos) << e.what();
  }
}

TEST(SwmrScan, AnOrdinaryScanIsRefusedNamingTheStreamingGroup) {
  writeScan(testing::smallScan(8, 16), "plain.cxi");
  EXPECT_FALSE(isGrowingScan("plain.cxi"));
  try {
    SwmrScanReader reader("plain.cxi");
    FAIL() << "an ordinary scan opened as a growing one";
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), swmr::kGroup);
    EXPECT_NE(std::string(e.what()).find("plain.cxi"), std::string::npos);
  }
}

// A finished growing file with one field damaged (through the raw HDF5 API).
void damage(const std::string& path, const std::function<void(hid_t)>& edit) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  edit(file);
  H5Fclose(file);
}

TEST(SwmrScan, ADamagedFieldIsNamed) {
  const Scan scan = labelledScan(6);
  {
    SwmrScanWriter writer("missing.cxi", scan, 10.0);
    writer.append(framesOf(scan, 0, 6), positionsOf(scan, 0, 6));
    writer.finish();
  }
  fs::copy_file("missing.cxi", "overcount.cxi", fs::copy_options::overwrite_existing);
  fs::copy_file("missing.cxi", "negative.cxi", fs::copy_options::overwrite_existing);
  EXPECT_TRUE(isGrowingScan("missing.cxi"));

  damage("missing.cxi",
         [](hid_t file) { H5Ldelete(file, swmr::kPlannedTranslation, H5P_DEFAULT); });
  try {
    SwmrScanReader reader("missing.cxi");
    FAIL() << "a growing scan without its planned positions was accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), swmr::kPlannedTranslation);
  }

  damage("overcount.cxi", [](hid_t file) {
    const hid_t ds = H5Dopen2(file, swmr::kFramesComplete, H5P_DEFAULT);
    const long long count = 99;
    H5Dwrite(ds, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, &count);
    H5Dclose(ds);
  });
  try {
    SwmrScanReader reader("overcount.cxi");
    FAIL() << "more complete frames than planned was accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), swmr::kFramesComplete);
    EXPECT_NE(std::string(e.what()).find("99"), std::string::npos);
  }

  damage("negative.cxi", [](hid_t file) {
    const hid_t ds = H5Dopen2(file, "/entry_1/instrument_1/detector_1/data", H5P_DEFAULT);
    const hid_t space = H5Dget_space(ds);
    const hsize_t start[3] = {4, 3, 3};
    const hsize_t count[3] = {1, 1, 1};
    H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr);
    const hid_t one = H5Screate_simple(3, count, nullptr);
    const float bad = -1.0F;
    H5Dwrite(ds, H5T_NATIVE_FLOAT, one, space, H5P_DEFAULT, &bad);
    H5Sclose(one);
    H5Sclose(space);
    H5Dclose(ds);
  });
  SwmrScanReader reader("negative.cxi");
  EXPECT_NO_THROW((void)reader.readMagnitudes(0, 4));
  try {
    (void)reader.readMagnitudes(0, 6);
    FAIL() << "a negative intensity was accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), "/entry_1/data_1/data");
    EXPECT_NE(std::string(e.what()).find("frame 4"), std::string::npos) << e.what();
  }
}

// ---- the command ------------------------------------------------------------------------------

TEST(StreamReplayCommand, WritesTheWholeScanAsAGrowingFileAndMarksItComplete) {
  Scan recorded = testing::smallScan(40, 16);
  // Everything that is not per frame travels too: a mask and an initial probe.
  recorded.mask = Image<std::uint8_t>(16, 16);
  recorded.mask(3, 5) = 1;
  recorded.mask(10, 2) = 1;
  recorded.probe = recorded.truth->probe;
  writeScan(recorded, "recorded.cxi");
  const auto o =
      testing::runPtyx("stream-replay recorded.cxi --rate 400 --start-frames 10 -o live.cxi");
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.err.find("40/40 frames"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("scan complete"), std::string::npos) << o.err;
  SwmrScanReader reader("live.cxi");
  EXPECT_TRUE(reader.complete());
  EXPECT_EQ(reader.framesAvailable(), 40U);
  // Paced: frame 39 is due 29/400 s after the paced ones began, never earlier; the start frames
  // went out in one batch.
  const auto times = reader.readArrivalTimes(0, 40);
  EXPECT_GT(times[39] - times[0], 0.5 * 29.0 / 400.0);
  EXPECT_EQ(times[9], times[0]) << "--start-frames are written at once";
  const Scan original = readScan("recorded.cxi");
  const Scan replayed = readScan("live.cxi");
  ASSERT_EQ(replayed.frameCount(), original.frameCount());
  for (std::size_t i = 0; i < original.magnitudes.size(); ++i) {
    ASSERT_NEAR(replayed.magnitudes.span()[i], original.magnitudes.span()[i],
                1e-5F * (1.0F + original.magnitudes.span()[i]));
  }
  for (std::size_t j = 0; j < original.frameCount(); ++j) {
    EXPECT_NEAR(replayed.positions[j].row, original.positions[j].row, 1e-9);
  }
  EXPECT_EQ(replayed.mask, original.mask);
  ASSERT_TRUE(replayed.probe.has_value());
  EXPECT_EQ(*replayed.probe, *original.probe);
  EXPECT_EQ(replayed.geometry, original.geometry);
  ASSERT_TRUE(replayed.truth.has_value());
  EXPECT_EQ(replayed.truth->object, original.truth->object);
}

TEST(StreamReplayCommand, BadInputNamesTheProblemAndWritesNothing) {
  auto o = testing::runPtyx("stream-replay nowhere.cxi --rate 100 -o out1.cxi");
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("nowhere.cxi"), std::string::npos) << o.err;
  EXPECT_FALSE(fs::exists("out1.cxi"));

  writeScan(testing::smallScan(8, 16), "eight.cxi");
  o = testing::runPtyx("stream-replay eight.cxi --rate 100 --start-frames 9 -o out2.cxi");
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("--start-frames"), std::string::npos) << o.err;
  EXPECT_FALSE(fs::exists("out2.cxi"));

  o = testing::runPtyx("stream-replay eight.cxi --rate 0 -o out3.cxi");
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("--rate"), std::string::npos) << o.err;
  EXPECT_FALSE(fs::exists("out3.cxi"));

  o = testing::runPtyx("stream-replay eight.cxi --rate 100 -o eight.cxi");
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("recorded scan itself"), std::string::npos) << o.err;
  EXPECT_EQ(readScan("eight.cxi").frameCount(), 8U);
}

}  // namespace
}  // namespace ptyx
