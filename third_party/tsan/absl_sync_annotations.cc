// ThreadSanitizer annotations for Debian's uninstrumented Abseil
// synchronization library (--config=tsan only; see docs/toolchain.md).
//
// libabsl_synchronization.so is built without -fsanitize=thread, so its
// ABSL_TSAN_MUTEX_* annotations are compiled out and absl::Mutex, CondVar and
// Notification synchronize through futexes and atomics that TSan never sees:
// every access guarded by an absl::Mutex would be reported as a race. The
// linker's --wrap (linkopts in BUILD) routes the project's calls to the
// __wrap_ functions below, which call the real function and tell TSan what it
// did, exactly as Abseil's own TSan build does (mutex.cc's
// ABSL_TSAN_MUTEX_PRE_LOCK etc.): accesses made inside the real call (absl
// evaluates Conditions, possibly on the unlocking thread) are ignored, and the
// lock/unlock is recorded. Only calls from code linked into the binary are
// wrapped (hence --dynamic_mode=off in the tsan config); Abseil's calls from
// inside other shared libraries (gRPC) stay invisible, as that code is not
// instrumented either.
//
// Symbols are Abseil 20220623's (inline namespace absl::debian3); the
// static_asserts below catch a layout change.

#include <sanitizer/tsan_interface.h>

#include <atomic>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

// Notification keeps {Mutex mutex_; std::atomic<bool> notified_yet_;}; its
// inline HasBeenNotified() is an acquire load of notified_yet_ in instrumented
// code, so Notify() releases on that address.
static_assert(sizeof(absl::Mutex) == sizeof(void*), "absl::Mutex layout");
static_assert(sizeof(absl::Notification) == 2 * sizeof(void*),
              "absl::Notification layout");
// ReleasableMutexLock keeps {Mutex* mu_;}.
static_assert(sizeof(absl::ReleasableMutexLock) == sizeof(void*),
              "absl::ReleasableMutexLock layout");

namespace {

void* NotifiedYet(const absl::Notification* n) {
  return const_cast<char*>(reinterpret_cast<const char*>(n)) +
         sizeof(absl::Mutex);
}

constexpr unsigned kRead = __tsan_mutex_read_lock;
constexpr unsigned kTry = __tsan_mutex_try_lock;
constexpr unsigned kTryFailed = __tsan_mutex_try_lock_failed;

// A held mutex released and re-acquired inside the real call (Await,
// CondVar::Wait): release now, ignore everything until the call returns, then
// acquire.
void BeginRelockingCall(void* mu, unsigned read) {
  __tsan_mutex_pre_unlock(mu, read);
}
void EndRelockingCall(void* mu, unsigned read) {
  __tsan_mutex_post_unlock(mu, read);
  __tsan_mutex_pre_lock(mu, read);
  __tsan_mutex_post_lock(mu, read, 0);
}

}  // namespace

// Mangled names: absl::debian3::<Class>::<Method>.
#define WRAP(sym) __wrap_##sym
#define REAL(sym) __real_##sym

using absl::Condition;
using absl::Duration;
using absl::Mutex;
using absl::Time;

extern "C" {

// Mutex::Lock / Unlock / ReaderLock / ReaderUnlock / TryLock / ReaderTryLock.
void REAL(_ZN4absl7debian35Mutex4LockEv)(Mutex*);
void REAL(_ZN4absl7debian35Mutex6UnlockEv)(Mutex*);
void REAL(_ZN4absl7debian35Mutex10ReaderLockEv)(Mutex*);
void REAL(_ZN4absl7debian35Mutex12ReaderUnlockEv)(Mutex*);
bool REAL(_ZN4absl7debian35Mutex7TryLockEv)(Mutex*);
bool REAL(_ZN4absl7debian35Mutex13ReaderTryLockEv)(Mutex*);
void REAL(_ZN4absl7debian35MutexD1Ev)(Mutex*);
void REAL(_ZN4absl7debian35MutexD2Ev)(Mutex*);

void WRAP(_ZN4absl7debian35Mutex4LockEv)(Mutex* mu) {
  __tsan_mutex_pre_lock(mu, 0);
  REAL(_ZN4absl7debian35Mutex4LockEv)(mu);
  __tsan_mutex_post_lock(mu, 0, 0);
}
void WRAP(_ZN4absl7debian35Mutex6UnlockEv)(Mutex* mu) {
  __tsan_mutex_pre_unlock(mu, 0);
  REAL(_ZN4absl7debian35Mutex6UnlockEv)(mu);
  __tsan_mutex_post_unlock(mu, 0);
}
void WRAP(_ZN4absl7debian35Mutex10ReaderLockEv)(Mutex* mu) {
  __tsan_mutex_pre_lock(mu, kRead);
  REAL(_ZN4absl7debian35Mutex10ReaderLockEv)(mu);
  __tsan_mutex_post_lock(mu, kRead, 0);
}
void WRAP(_ZN4absl7debian35Mutex12ReaderUnlockEv)(Mutex* mu) {
  __tsan_mutex_pre_unlock(mu, kRead);
  REAL(_ZN4absl7debian35Mutex12ReaderUnlockEv)(mu);
  __tsan_mutex_post_unlock(mu, kRead);
}
bool WRAP(_ZN4absl7debian35Mutex7TryLockEv)(Mutex* mu) {
  __tsan_mutex_pre_lock(mu, kTry);
  const bool locked = REAL(_ZN4absl7debian35Mutex7TryLockEv)(mu);
  __tsan_mutex_post_lock(mu, kTry | (locked ? 0 : kTryFailed), 0);
  return locked;
}
bool WRAP(_ZN4absl7debian35Mutex13ReaderTryLockEv)(Mutex* mu) {
  __tsan_mutex_pre_lock(mu, kRead | kTry);
  const bool locked = REAL(_ZN4absl7debian35Mutex13ReaderTryLockEv)(mu);
  __tsan_mutex_post_lock(mu, kRead | kTry | (locked ? 0 : kTryFailed), 0);
  return locked;
}
void WRAP(_ZN4absl7debian35MutexD1Ev)(Mutex* mu) {
  __tsan_mutex_destroy(mu, 0);
  REAL(_ZN4absl7debian35MutexD1Ev)(mu);
}
void WRAP(_ZN4absl7debian35MutexD2Ev)(Mutex* mu) {
  __tsan_mutex_destroy(mu, 0);
  REAL(_ZN4absl7debian35MutexD2Ev)(mu);
}

// Mutex::LockWhen*: acquire once the condition holds (the *WithTimeout and
// *WithDeadline forms hold the lock on return either way).
void REAL(_ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE)(Mutex*,
                                                              const Condition&);
bool REAL(_ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE)(
    Mutex*, const Condition&, Duration);
bool REAL(_ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE)(
    Mutex*, const Condition&, Time);
void REAL(_ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE)(
    Mutex*, const Condition&);
bool REAL(_ZN4absl7debian35Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE)(
    Mutex*, const Condition&, Duration);
bool REAL(_ZN4absl7debian35Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE)(
    Mutex*, const Condition&, Time);

void WRAP(_ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE)(
    Mutex* mu, const Condition& c) {
  __tsan_mutex_pre_lock(mu, 0);
  REAL(_ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE)(mu, c);
  __tsan_mutex_post_lock(mu, 0, 0);
}
bool WRAP(_ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE)(
    Mutex* mu, const Condition& c, Duration d) {
  __tsan_mutex_pre_lock(mu, 0);
  const bool r =
      REAL(_ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE)(
          mu, c, d);
  __tsan_mutex_post_lock(mu, 0, 0);
  return r;
}
bool WRAP(_ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE)(
    Mutex* mu, const Condition& c, Time t) {
  __tsan_mutex_pre_lock(mu, 0);
  const bool r =
      REAL(_ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE)(
          mu, c, t);
  __tsan_mutex_post_lock(mu, 0, 0);
  return r;
}
void WRAP(_ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE)(
    Mutex* mu, const Condition& c) {
  __tsan_mutex_pre_lock(mu, kRead);
  REAL(_ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE)(mu, c);
  __tsan_mutex_post_lock(mu, kRead, 0);
}
bool WRAP(_ZN4absl7debian35Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE)(
    Mutex* mu, const Condition& c, Duration d) {
  __tsan_mutex_pre_lock(mu, kRead);
  const bool r =
      REAL(_ZN4absl7debian35Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE)(
          mu, c, d);
  __tsan_mutex_post_lock(mu, kRead, 0);
  return r;
}
bool WRAP(_ZN4absl7debian35Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE)(
    Mutex* mu, const Condition& c, Time t) {
  __tsan_mutex_pre_lock(mu, kRead);
  const bool r =
      REAL(_ZN4absl7debian35Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE)(
          mu, c, t);
  __tsan_mutex_post_lock(mu, kRead, 0);
  return r;
}

// Mutex::Await*: called with the lock held (writer lock in this project);
// absl releases it while waiting and holds it again on return.
void REAL(_ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE)(Mutex*,
                                                           const Condition&);
bool REAL(_ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE)(
    Mutex*, const Condition&, Duration);
bool REAL(_ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE)(
    Mutex*, const Condition&, Time);

void WRAP(_ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE)(Mutex* mu,
                                                           const Condition& c) {
  BeginRelockingCall(mu, 0);
  REAL(_ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE)(mu, c);
  EndRelockingCall(mu, 0);
}
bool WRAP(_ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE)(
    Mutex* mu, const Condition& c, Duration d) {
  BeginRelockingCall(mu, 0);
  const bool r =
      REAL(_ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE)(
          mu, c, d);
  EndRelockingCall(mu, 0);
  return r;
}
bool WRAP(_ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE)(
    Mutex* mu, const Condition& c, Time t) {
  BeginRelockingCall(mu, 0);
  const bool r =
      REAL(_ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE)(
          mu, c, t);
  EndRelockingCall(mu, 0);
  return r;
}

// CondVar::Wait*: same shape as Await, on the mutex passed in.
void REAL(_ZN4absl7debian37CondVar4WaitEPNS0_5MutexE)(absl::CondVar*, Mutex*);
bool REAL(_ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE)(
    absl::CondVar*, Mutex*, Duration);
bool REAL(_ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE)(
    absl::CondVar*, Mutex*, Time);

void WRAP(_ZN4absl7debian37CondVar4WaitEPNS0_5MutexE)(absl::CondVar* cv,
                                                       Mutex* mu) {
  BeginRelockingCall(mu, 0);
  REAL(_ZN4absl7debian37CondVar4WaitEPNS0_5MutexE)(cv, mu);
  EndRelockingCall(mu, 0);
}
bool WRAP(_ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE)(
    absl::CondVar* cv, Mutex* mu, Duration d) {
  BeginRelockingCall(mu, 0);
  const bool r =
      REAL(_ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE)(
          cv, mu, d);
  EndRelockingCall(mu, 0);
  return r;
}
bool WRAP(_ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE)(
    absl::CondVar* cv, Mutex* mu, Time t) {
  BeginRelockingCall(mu, 0);
  const bool r =
      REAL(_ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE)(
          cv, mu, t);
  EndRelockingCall(mu, 0);
  return r;
}

// ReleasableMutexLock::Release unlocks inside the library.
void REAL(_ZN4absl7debian319ReleasableMutexLock7ReleaseEv)(
    absl::ReleasableMutexLock*);
void WRAP(_ZN4absl7debian319ReleasableMutexLock7ReleaseEv)(
    absl::ReleasableMutexLock* l) {
  Mutex* mu = *reinterpret_cast<Mutex**>(l);
  __tsan_mutex_pre_unlock(mu, 0);
  REAL(_ZN4absl7debian319ReleasableMutexLock7ReleaseEv)(l);
  __tsan_mutex_post_unlock(mu, 0);
}

// Notification: Notify() happens before any wait that returns notified and
// before HasBeenNotified() (inline) reads true.
void REAL(_ZN4absl7debian312Notification6NotifyEv)(absl::Notification*);
void REAL(_ZNK4absl7debian312Notification19WaitForNotificationEv)(
    const absl::Notification*);
bool REAL(_ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE)(
    const absl::Notification*, Duration);
bool REAL(_ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE)(
    const absl::Notification*, Time);

void WRAP(_ZN4absl7debian312Notification6NotifyEv)(absl::Notification* n) {
  __tsan_release(NotifiedYet(n));
  REAL(_ZN4absl7debian312Notification6NotifyEv)(n);
}
void WRAP(_ZNK4absl7debian312Notification19WaitForNotificationEv)(
    const absl::Notification* n) {
  REAL(_ZNK4absl7debian312Notification19WaitForNotificationEv)(n);
  __tsan_acquire(NotifiedYet(n));
}
bool WRAP(_ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE)(
    const absl::Notification* n, Duration d) {
  const bool r =
      REAL(_ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE)(
          n, d);
  if (r) __tsan_acquire(NotifiedYet(n));
  return r;
}
bool WRAP(_ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE)(
    const absl::Notification* n, Time t) {
  const bool r =
      REAL(_ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE)(
          n, t);
  if (r) __tsan_acquire(NotifiedYet(n));
  return r;
}

}  // extern "C"
