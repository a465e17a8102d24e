// Nothing lost: every writer goes through a temporary file and a rename, so a
// write that fails midway, or a process killed mid-write, leaves the old file
// or the whole new one, never a mixture.
#include "framework/error.h"
#include "framework/file.h"
#include "framework/npy.h"
#include "framework/safetensors.h"
#include "reliability.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <csignal>
#include <filesystem>
#include <thread>

#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace mininn {
namespace {

namespace fs = std::filesystem;

// A fresh folder per test, removed afterwards.
class AtomicWrite : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("mininn-atomic-" + std::to_string(::getpid()) + "-" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string at(const std::string& name) const { return (dir_ / name).string(); }
  // Every file in the folder: a stray temporary file shows up here.
  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path dir_;
};

Tensor ramp(int64_t count, float start) {
  Tensor t = Tensor::empty({count});
  for (int64_t i = 0; i < count; ++i) t.f32()[i] = start + static_cast<float>(i);
  return t;
}

bool same(const Tensor& a, const Tensor& b) {
  return a.desc() == b.desc() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

// RLIMIT_FSIZE makes the write fail with EFBIG partway through, as a full
// disk would; SIGXFSZ is ignored so that the failure is an error, not death.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    previous_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &previous_);
    rlimit limit = previous_;
    limit.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &limit);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &previous_);
    std::signal(SIGXFSZ, previous_handler_);
  }

 private:
  rlimit previous_{};
  void (*previous_handler_)(int);
};

TEST_F(AtomicWrite, AFailedNpyWriteLeavesTheOldFileIntact) {
  const std::string path = at("out.npy");
  const Tensor old = ramp(100, 0);
  write_npy(path, old);
  {
    FileSizeLimit limit(64 << 10);  // the new file is 4 MiB
    EXPECT_THROW(write_npy(path, ramp(1 << 20, 7)), Error);
  }
  EXPECT_TRUE(same(read_npy(path), old));
  EXPECT_EQ(files(), std::vector<std::string>{"out.npy"});  // the partial temporary file is gone
}

TEST_F(AtomicWrite, AFailedSafetensorsWriteLeavesTheOldFileIntact) {
  const std::string path = at("w.safetensors");
  write_safetensors(path, {{"a", ramp(10, 1)}});
  {
    FileSizeLimit limit(64 << 10);
    EXPECT_THROW(write_safetensors(path, {{"a", ramp(10, 2)}, {"b", ramp(1 << 20, 3)}}), Error);
  }
  auto tensors = read_safetensors(path);
  ASSERT_EQ(tensors.size(), 1u);
  EXPECT_TRUE(same(tensors.at("a"), ramp(10, 1)));
  EXPECT_EQ(files(), std::vector<std::string>{"w.safetensors"});
}

TEST_F(AtomicWrite, AWriterAbandonedBeforeCommitLeavesNothing) {
  const std::string path = at("log.csv");
  write_file_atomically(path, "old\n");
  {
    AtomicFile file(path);
    file.write("new, but the run failed\n");
  }  // no commit: an exception unwinding would do the same
  EXPECT_EQ(read_file(path, 100), "old\n");
  EXPECT_EQ(files(), std::vector<std::string>{"log.csv"});

  AtomicFile file(path);
  file.write("new\n");
  EXPECT_EQ(read_file(path, 100), "old\n");  // nothing shows until commit
  file.commit();
  EXPECT_EQ(read_file(path, 100), "new\n");
}

TEST_F(AtomicWrite, AnUnwritableFolderIsAnErrorNamingTheFile) {
  try {
    write_file_atomically(at("missing/out.npy"), "x");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing/out.npy: cannot write"), std::string::npos) << e.what();
  }
}

// A child process (this binary, --write-forever) rewrites one 16 MiB .npy
// with two alternating contents as fast as it can; it is killed with
// SIGKILL at varying moments. Whenever it dies, the file holds one of the two
// contents, whole.
TEST_F(AtomicWrite, KillNineDuringALargeWriteLeavesTheOldOrTheNewFile) {
  const std::string path = at("big.npy");
  constexpr int64_t kCount = 4 << 20;
  write_npy(path, ramp(kCount, 0));
  const Tensor first = ramp(kCount, 0), second = ramp(kCount, 1);
  int kills = 0, changed = 0;
  Tensor before = read_npy(path);
  for (int round = 0; round < 6; ++round) {
    std::string self = testing::reliability_binary();
    std::vector<char*> argv = {self.data(), const_cast<char*>("--write-forever"), const_cast<char*>(path.c_str()),
                               nullptr};
    pid_t child = 0;
    ASSERT_EQ(::posix_spawn(&child, self.c_str(), nullptr, nullptr, argv.data(), environ), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + 97 * round));
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the writer ended by itself: " << status;
    ++kills;
    Tensor now = read_npy(path);  // throws on a truncated or mixed file
    EXPECT_TRUE(same(now, first) || same(now, second)) << "round " << round;
    changed += same(now, before) ? 0 : 1;
    before = now;
    // kill -9 cannot clean up: at most the one temporary file of the write in
    // flight is left; remove it for the next round.
    for (const std::string& name : files())
      if (name != "big.npy") fs::remove(dir_ / name);
  }
  EXPECT_EQ(kills, 6);
  RecordProperty("rounds_where_the_file_changed", changed);
}

}  // namespace

void write_forever(const std::string& path) {
  const Tensor contents[2] = {ramp(4 << 20, 0), ramp(4 << 20, 1)};
  for (uint64_t i = 1;; ++i) write_npy(path, contents[i % 2]);  // starts with the other content
}

}  // namespace mininn
