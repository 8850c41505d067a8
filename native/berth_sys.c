/*
 * The few Linux system calls berthd needs that Node does not offer: mount(2) and umount2(2),
 * and a probe of whether the kernel runs x32 system calls.
 * Spawning util-linux mount for every container start cost a fork of the daemon plus the exec
 * and library loading of mount (~3 ms of CPU, and ~5 ms of a busy event loop, per start).
 *
 * Both run on libuv's thread pool and return a Promise of 0 or the errno
 * (src/util/syscalls.ts turns an errno into an Error like Node's fs errors). Off the event
 * loop because both can wait: mounts take the kernel's global namespace lock, which runc's
 * container set-up holds often while containers start, and unmounting an overlay syncs its
 * upper filesystem (ovl_sync_fs).
 */
#include <errno.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

enum op { OP_MOUNT, OP_UMOUNT2 };

struct work {
  napi_async_work async;
  napi_deferred deferred;
  enum op op;
  char *s[4]; /* mount: source, target, fstype, data; umount2: target */
  unsigned long flags;
  int rc;
};

static void work_free(struct work *w) {
  for (int i = 0; i < 4; i++) free(w->s[i]);
  free(w);
}

/* A string argument as a malloc'd C string, NULL for JS null/undefined; *bad on anything else
 * (including a string with a NUL byte, which would silently shorten a path). */
static char *string_arg(napi_env env, napi_value v, int *bad) {
  napi_valuetype t;
  size_t len = 0;
  char *s;
  if (napi_typeof(env, v, &t) != napi_ok) goto fail;
  if (t == napi_null || t == napi_undefined) return NULL;
  if (t != napi_string || napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) goto fail;
  s = malloc(len + 1);
  if (!s) goto fail;
  if (napi_get_value_string_utf8(env, v, s, len + 1, &len) != napi_ok || strlen(s) != len) {
    free(s);
    goto fail;
  }
  return s;
fail:
  *bad = 1;
  return NULL;
}

static void execute(napi_env env, void *data) {
  struct work *w = data;
  int rc;
  (void)env;
  if (w->op == OP_MOUNT)
    rc = mount(w->s[0], w->s[1], w->s[2], w->flags, w->s[3]);
  else
    rc = umount2(w->s[0], (int)w->flags);
  w->rc = rc == 0 ? 0 : errno;
}

static void complete(napi_env env, napi_status status, void *data) {
  struct work *w = data;
  napi_value v;
  if (napi_create_int32(env, status == napi_ok ? w->rc : ECANCELED, &v) == napi_ok)
    napi_resolve_deferred(env, w->deferred, v);
  napi_delete_async_work(env, w->async);
  work_free(w);
}

/* Queues a filled-in work item; returns its promise, or throws and frees it. */
static napi_value queue(napi_env env, struct work *w) {
  napi_value name, promise;
  if (napi_create_promise(env, &w->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "berth:syscall", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, execute, complete, w, &w->async) != napi_ok) {
    work_free(w);
    napi_throw_error(env, NULL, "cannot queue the system call");
    return NULL;
  }
  if (napi_queue_async_work(env, w->async) != napi_ok) {
    napi_delete_async_work(env, w->async);
    work_free(w);
    napi_throw_error(env, NULL, "cannot queue the system call");
    return NULL;
  }
  return promise;
}

/* mount(source, target, fstype, flags, data) -> Promise<0 | errno> */
static napi_value js_mount(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  const int at[4] = {0, 1, 2, 4};
  int bad = 0;
  double flags = 0;
  struct work *w = calloc(1, sizeof *w);
  if (!w || napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5) bad = 1;
  for (int i = 0; i < 4 && !bad; i++) w->s[i] = string_arg(env, argv[at[i]], &bad);
  if (!bad && (napi_get_value_double(env, argv[3], &flags) != napi_ok || !w->s[1])) bad = 1;
  if (bad) {
    if (w) work_free(w);
    napi_throw_type_error(env, NULL, "mount(source, target: string, fstype, flags: number, data)");
    return NULL;
  }
  w->op = OP_MOUNT;
  w->flags = (unsigned long)flags;
  return queue(env, w);
}

/* umount2(target, flags) -> Promise<0 | errno> */
static napi_value js_umount2(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int bad = 0, flags = 0;
  struct work *w = calloc(1, sizeof *w);
  if (!w || napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) bad = 1;
  if (!bad) w->s[0] = string_arg(env, argv[0], &bad);
  if (!bad && (!w->s[0] || napi_get_value_int32(env, argv[1], &flags) != napi_ok)) bad = 1;
  if (bad) {
    if (w) work_free(w);
    napi_throw_type_error(env, NULL, "umount2(target: string, flags: number)");
    return NULL;
  }
  w->op = OP_UMOUNT2;
  w->flags = (unsigned long)flags;
  return queue(env, w);
}

/*
 * x32Syscalls() -> boolean: whether an x32 system call (getpid with __X32_SYSCALL_BIT) works
 * here. Most kernels build x32 out or leave it off (syscall.x32=n); then a container's seccomp
 * filter need not be compiled for x32, which is a fifth of runc's CPU per container start.
 * The call is made in a forked child: under a seccomp filter of our own (a systemd unit with
 * SystemCallArchitectures=native) it would be killed, and that must not be the daemon.
 */
static napi_value js_x32_syscalls(napi_env env, napi_callback_info info) {
  int works = 0;
  (void)info;
#if defined(__x86_64__)
  pid_t pid = fork();
  if (pid == 0) _exit(syscall(0x40000000 | SYS_getpid) >= 0 ? 0 : 1);
  if (pid > 0) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    works = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
#endif
  napi_value v;
  if (napi_get_boolean(env, works, &v) != napi_ok) return NULL;
  return v;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"mount", NULL, js_mount, NULL, NULL, NULL, napi_enumerable, NULL},
      {"umount2", NULL, js_umount2, NULL, NULL, NULL, napi_enumerable, NULL},
      {"x32Syscalls", NULL, js_x32_syscalls, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
