#include "fs/deferred_unlinks.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace kvfs::fs {
namespace {

using namespace std::chrono_literals;

// A commit function that records each batch and can be held at its start, so a test
// can queue unlinks while a batch is "being committed".
class Recorder {
 public:
  DeferredUnlinks::CommitFn Fn() {
    return [this](const std::vector<PendingUnlink>& batch) {
      std::unique_lock lock(mu_);
      ++started_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return !held_; });
      std::vector<std::string> names;
      for (const PendingUnlink& u : batch) names.push_back(u.name);
      batches_.push_back(names);
    };
  }
  void Hold() {
    std::lock_guard lock(mu_);
    held_ = true;
  }
  void Release() {
    std::lock_guard lock(mu_);
    held_ = false;
    cv_.notify_all();
  }
  // Waits (bounded) until `n` batches have started.
  bool WaitStarted(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 5s, [&] { return started_ >= n; });
  }
  std::vector<std::vector<std::string>> batches() {
    std::lock_guard lock(mu_);
    return batches_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false;
  int started_ = 0;
  std::vector<std::vector<std::string>> batches_;
};

PendingUnlink U(store::Ino parent, std::string name, store::Ino ino, int64_t sec = 0) {
  return PendingUnlink{parent, std::move(name), ino, store::Timespec{sec, 0}};
}

// Leaves "a" held in its commit and "b" queued behind it; the returned thread lets the
// commit go on after 100 ms, while the caller waits on the queue.
std::thread OneInFlightOneQueued(Recorder& rec, DeferredUnlinks& q) {
  rec.Hold();
  q.Add(U(1, "a", 10));
  EXPECT_TRUE(rec.WaitStarted(1));
  q.Add(U(1, "b", 11));
  return std::thread([&rec] {
    std::this_thread::sleep_for(100ms);
    rec.Release();
  });
}

TEST(DeferredUnlinksTest, UnlinksQueuedDuringACommitLandTogetherInTheNextBatch) {
  Recorder rec;
  DeferredUnlinks q(rec.Fn());
  rec.Hold();
  q.Add(U(1, "first", 10));
  ASSERT_TRUE(rec.WaitStarted(1));
  for (int i = 0; i < 50; ++i) q.Add(U(1, "f" + std::to_string(i), 100 + i));
  rec.Release();
  q.WaitIdle();
  auto batches = rec.batches();
  ASSERT_EQ(2u, batches.size()) << "51 unlinks should take two commits, not one each";
  EXPECT_EQ(std::vector<std::string>{"first"}, batches[0]);
  ASSERT_EQ(50u, batches[1].size());
  for (int i = 0; i < 50; ++i) EXPECT_EQ("f" + std::to_string(i), batches[1][i]) << "in order";
  EXPECT_EQ(2u, q.batches());
}

TEST(DeferredUnlinksTest, WaitIdleReturnsOnlyOnceEverythingAddedBeforeIsCommitted) {
  Recorder rec;
  DeferredUnlinks q(rec.Fn());
  std::thread releaser = OneInFlightOneQueued(rec, q);
  q.WaitIdle();
  auto batches = rec.batches();
  releaser.join();
  ASSERT_EQ(2u, batches.size()) << "WaitIdle returned before both batches were committed";
  EXPECT_EQ(std::vector<std::string>{"b"}, batches[1]);
}

TEST(DeferredUnlinksTest, QueriesSeeQueuedAndInFlightUnlinksUntilTheyLand) {
  Recorder rec;
  DeferredUnlinks q(rec.Fn());
  EXPECT_FALSE(q.Pending(1, "a"));
  EXPECT_FALSE(q.DirTimeAfter(1).has_value());
  rec.Hold();
  q.Add(U(1, "a", 10, 100));
  ASSERT_TRUE(rec.WaitStarted(1));  // "a" is in flight now
  q.Add(U(1, "b", 11, 200));        // "b" is queued behind it
  q.Add(U(2, "c", 12, 300));
  EXPECT_TRUE(q.Pending(1, "a"));
  EXPECT_TRUE(q.Pending(1, "b"));
  EXPECT_FALSE(q.Pending(2, "a")) << "same name, other directory";
  EXPECT_TRUE(q.Removes(10));
  EXPECT_TRUE(q.Removes(12));
  EXPECT_FALSE(q.Removes(13));
  ASSERT_TRUE(q.DirTimeAfter(1).has_value());
  EXPECT_EQ(200, q.DirTimeAfter(1)->sec) << "the last unlink answered in the directory";
  EXPECT_EQ(300, q.DirTimeAfter(2)->sec);
  EXPECT_FALSE(q.DirTimeAfter(3).has_value());
  rec.Release();
  q.WaitIdle();
  EXPECT_FALSE(q.Pending(1, "a"));
  EXPECT_FALSE(q.Removes(12));
  EXPECT_FALSE(q.DirTimeAfter(1).has_value());
}

TEST(DeferredUnlinksTest, StopCommitsWhatIsQueuedAndALaterAddCommitsAtOnce) {
  Recorder rec;
  DeferredUnlinks q(rec.Fn());
  std::thread releaser = OneInFlightOneQueued(rec, q);
  q.Stop();
  releaser.join();
  ASSERT_EQ(2u, rec.batches().size()) << "Stop returned before the queue was committed";
  q.Add(U(1, "late", 12));  // no thread any more: committed before Add returns
  auto batches = rec.batches();
  ASSERT_EQ(3u, batches.size());
  EXPECT_EQ(std::vector<std::string>{"late"}, batches[2]);
  EXPECT_FALSE(q.Pending(1, "late"));
}

TEST(DeferredUnlinksTest, AnUnlinkAddedToAnIdleThreadIsCommittedOnceKicked) {
  Recorder rec;
  DeferredUnlinks q(rec.Fn());
  q.Add(U(1, "a", 10));
  q.WaitIdle();  // the thread is asleep now
  q.Add(U(1, "b", 11));
  q.Kick();
  ASSERT_TRUE(rec.WaitStarted(2)) << "Kick did not wake the thread";
  q.WaitIdle();
  EXPECT_EQ(2u, rec.batches().size());
}

TEST(DeferredUnlinksTest, ACommitThatThrowsDoesNotStopTheQueue) {
  int calls = 0;
  DeferredUnlinks q([&](const std::vector<PendingUnlink>& batch) {
    ++calls;
    if (batch.front().name == "bad") throw std::runtime_error("disk on fire");
  });
  q.Add(U(1, "bad", 10));
  q.WaitIdle();
  q.Add(U(1, "good", 11));
  q.WaitIdle();
  EXPECT_EQ(2, calls);
  EXPECT_FALSE(q.Pending(1, "bad"));
}

}  // namespace
}  // namespace kvfs::fs
