/**
 * Docker's default seccomp policy, kept as data of our own shape and turned into the OCI
 * `linux.seccomp` object for one container. The content follows moby's profile
 * (moby/profiles seccomp/default.json): an allow-list with EPERM for everything else,
 * a few argument filters (socket families, personality, clone namespace flags) and
 * groups that only open when the container holds a capability.
 *
 * Names the host's libseccomp does not know are skipped by runc ("unknown syscall
 * ignored"), so the list may name syscalls newer than the kernel.
 */
import os from 'node:os';
import { x32Syscalls } from '../util/syscalls.js';

/** Go's GOARCH names, which the profile's arch conditions use (the daemon's own arch). */
type GoArch = 'amd64' | 'x86' | 'x32' | 'arm64' | 'arm' | 'ppc64le' | 's390' | 's390x' | 'riscv64';

type CompareOp = 'SCMP_CMP_EQ' | 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_GT' | 'SCMP_CMP_MASKED_EQ';

interface ArgFilter {
  index: number;
  value: number;
  valueTwo?: number;
  op: CompareOp;
}

interface Rule {
  /** Space-separated syscall names. */
  syscalls: string;
  /** Absent = allow. */
  errno?: number;
  args?: ArgFilter[];
  /** The rule applies only when the container holds every one of these. */
  whenCaps?: string[];
  /** The rule is dropped when the container holds any of these. */
  unlessCaps?: string[];
  onlyArches?: GoArch[];
  exceptArches?: GoArch[];
  minKernel?: [number, number];
}

const EPERM = 1;
const ENOSYS = 38;

/** Namespace flags clone() may not use without CAP_SYS_ADMIN (CLONE_NEWNS … CLONE_NEWCGROUP, CLONE_NEWTIME). */
const CLONE_NAMESPACE_FLAGS = 0x7e020000;

const ALWAYS_ALLOWED = `
  accept accept4 access adjtimex alarm bind brk cachestat capget capset chdir chmod chown chown32
  clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64
  clock_nanosleep clock_nanosleep_time64 close close_range connect copy_file_range creat
  dup dup2 dup3
  epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old
  eventfd eventfd2 execve execveat exit exit_group
  faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchmodat2
  fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr
  fstat fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64
  futex futex_requeue futex_time64 futex_wait futex_waitv futex_wake futimesat
  get_robust_list get_thread_area getcpu getcwd getdents getdents64 getegid getegid32 geteuid geteuid32
  getgid getgid32 getgroups getgroups32 getitimer getpeername getpgid getpgrp getpid getppid getpriority
  getrandom getresgid getresgid32 getresuid getresuid32 getrlimit getrusage getsid getsockname getsockopt
  gettid gettimeofday getuid getuid32 getxattr getxattrat
  inotify_add_watch inotify_init inotify_init1 inotify_rm_watch
  io_cancel io_destroy io_getevents io_pgetevents io_pgetevents_time64 io_setup io_submit
  ioctl ioprio_get ioprio_set ipc kill
  landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link linkat
  listen listmount listxattr listxattrat llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64
  madvise map_shadow_stack membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat
  mlock mlock2 mlockall mmap mmap2 mprotect
  mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink
  mremap mseal msgctl msgget msgrcv msgsnd msync munlock munlockall munmap
  name_to_handle_at nanosleep newfstatat _newselect open openat openat2
  pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll ppoll_time64
  prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64 pwritev pwritev2
  read readahead readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages
  removexattr removexattrat rename renameat renameat2 restart_syscall riscv_hwprobe rmdir rseq
  rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait
  rt_sigtimedwait_time64 rt_tgsigqueueinfo
  sched_get_priority_max sched_get_priority_min sched_getaffinity sched_getattr sched_getparam
  sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity sched_setattr
  sched_setparam sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop semtimedop_time64
  send sendfile sendfile64 sendmmsg sendmsg sendto set_robust_list set_thread_area set_tid_address
  setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer setpgid setpriority
  setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32 setrlimit setsid
  setsockopt setuid setuid32 setxattr setxattrat shmat shmctl shmdt shmget shutdown sigaltstack signalfd
  signalfd4 sigprocmask sigreturn socketcall socketpair splice stat stat64 statfs statfs64 statmount statx
  symlink symlinkat sync sync_file_range syncfs sysinfo
  tee tgkill time timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime
  timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64 times
  tkill truncate truncate64 ugetrlimit umask uname unlink unlinkat uretprobe utime utimensat utimensat_time64
  utimes vfork vmsplice wait4 waitid waitpid write writev
`;

/** personality(2) values a container may set: PER_LINUX, PER_LINUX32, UNAME26 variants, and the query. */
const PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

const RULES: Rule[] = [
  { syscalls: ALWAYS_ALLOWED },
  { syscalls: 'process_vm_readv process_vm_writev ptrace', minKernel: [4, 8] },
  // Every socket family except AF_ALG (38) and AF_VSOCK (40).
  { syscalls: 'socket', args: [{ index: 0, value: 38, op: 'SCMP_CMP_LT' }] },
  { syscalls: 'socket', args: [{ index: 0, value: 39, op: 'SCMP_CMP_EQ' }] },
  { syscalls: 'socket', args: [{ index: 0, value: 40, op: 'SCMP_CMP_GT' }] },
  ...PERSONALITIES.map(
    (value): Rule => ({
      syscalls: 'personality',
      args: [{ index: 0, value, op: 'SCMP_CMP_EQ' }],
    }),
  ),
  { syscalls: 'sync_file_range2 swapcontext', onlyArches: ['ppc64le'] },
  {
    syscalls: 'arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls',
    onlyArches: ['arm', 'arm64'],
  },
  { syscalls: 'arch_prctl', onlyArches: ['amd64', 'x32'] },
  { syscalls: 'modify_ldt', onlyArches: ['amd64', 'x32', 'x86'] },
  { syscalls: 's390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr', onlyArches: ['s390', 's390x'] },
  { syscalls: 'riscv_flush_icache', onlyArches: ['riscv64'] },
  { syscalls: 'open_by_handle_at', whenCaps: ['CAP_DAC_READ_SEARCH'] },
  {
    syscalls: `bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie lsm_get_self_attr
      lsm_list_modules lsm_set_self_attr mount mount_setattr move_mount open_tree perf_event_open quotactl
      quotactl_fd setdomainname sethostname setns syslog umount umount2 unshare`,
    whenCaps: ['CAP_SYS_ADMIN'],
  },
  // Without CAP_SYS_ADMIN, clone() is allowed only without namespace flags (no CLONE_NEWUSER escape).
  {
    syscalls: 'clone',
    args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
    unlessCaps: ['CAP_SYS_ADMIN'],
    exceptArches: ['s390', 's390x'],
  },
  {
    syscalls: 'clone',
    args: [{ index: 1, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
    unlessCaps: ['CAP_SYS_ADMIN'],
    onlyArches: ['s390', 's390x'],
  },
  // clone3 passes its flags in memory seccomp cannot read: ENOSYS makes libc fall back to clone().
  { syscalls: 'clone3', errno: ENOSYS, unlessCaps: ['CAP_SYS_ADMIN'] },
  { syscalls: 'reboot', whenCaps: ['CAP_SYS_BOOT'] },
  { syscalls: 'chroot', whenCaps: ['CAP_SYS_CHROOT'] },
  { syscalls: 'delete_module init_module finit_module', whenCaps: ['CAP_SYS_MODULE'] },
  { syscalls: 'acct', whenCaps: ['CAP_SYS_PACCT'] },
  {
    syscalls: 'kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace',
    whenCaps: ['CAP_SYS_PTRACE'],
  },
  { syscalls: 'iopl ioperm', whenCaps: ['CAP_SYS_RAWIO'] },
  { syscalls: 'settimeofday stime clock_settime clock_settime64', whenCaps: ['CAP_SYS_TIME'] },
  { syscalls: 'vhangup', whenCaps: ['CAP_SYS_TTY_CONFIG'] },
  { syscalls: 'get_mempolicy mbind set_mempolicy set_mempolicy_home_node', whenCaps: ['CAP_SYS_NICE'] },
  { syscalls: 'syslog', whenCaps: ['CAP_SYSLOG'] },
  { syscalls: 'bpf', whenCaps: ['CAP_BPF'] },
  { syscalls: 'perf_event_open', whenCaps: ['CAP_PERFMON'] },
];

/** Native arch and its compat sub-arches, in libseccomp's names. */
const SECCOMP_ARCHES: Partial<Record<GoArch, string[]>> = {
  amd64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  arm64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
  x86: ['SCMP_ARCH_X86'],
  arm: ['SCMP_ARCH_ARM'],
  ppc64le: ['SCMP_ARCH_PPC64LE'],
  s390x: ['SCMP_ARCH_S390X', 'SCMP_ARCH_S390'],
  riscv64: ['SCMP_ARCH_RISCV64'],
};

const NODE_TO_GO: Record<string, GoArch> = {
  x64: 'amd64',
  ia32: 'x86',
  arm64: 'arm64',
  arm: 'arm',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
};

export interface OciSeccompSyscall {
  names: string[];
  action: 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO';
  errnoRet?: number;
  args?: ArgFilter[];
}

export interface OciSeccomp {
  defaultAction: 'SCMP_ACT_ERRNO';
  defaultErrnoRet: number;
  architectures: string[];
  syscalls: OciSeccompSyscall[];
}

export interface SeccompHost {
  /** Node's process.arch value. */
  arch: string;
  /** Kernel release like "6.1.0-18-amd64". */
  kernel: string;
  /** Whether the kernel runs x32 system calls; false drops SCMP_ARCH_X32 (unknown: keep it). */
  x32?: boolean;
}

function kernelAtLeast(release: string, [major, minor]: [number, number]): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) return true;
  const have = [Number(m[1]), Number(m[2])];
  return have[0] > major || (have[0] === major && have[1] >= minor);
}

/**
 * The OCI `linux.seccomp` object of Docker's default profile for a container holding
 * `caps` (its bounding set, CAP_ names).
 */
export function defaultSeccomp(
  caps: readonly string[],
  host: SeccompHost = { arch: process.arch, kernel: os.release(), x32: x32Syscalls() },
): OciSeccomp {
  const arch = NODE_TO_GO[host.arch] ?? 'amd64';
  const syscalls: OciSeccompSyscall[] = [];
  for (const rule of RULES) {
    if (rule.whenCaps && !rule.whenCaps.every((c) => caps.includes(c))) continue;
    if (rule.unlessCaps?.some((c) => caps.includes(c))) continue;
    if (rule.onlyArches && !rule.onlyArches.includes(arch)) continue;
    if (rule.exceptArches?.includes(arch)) continue;
    if (rule.minKernel && !kernelAtLeast(host.kernel, rule.minKernel)) continue;
    const entry: OciSeccompSyscall = {
      names: rule.syscalls.split(/\s+/).filter(Boolean),
      action: rule.errno === undefined ? 'SCMP_ACT_ALLOW' : 'SCMP_ACT_ERRNO',
    };
    if (rule.errno !== undefined) entry.errnoRet = rule.errno;
    if (rule.args) entry.args = rule.args.map((a) => ({ ...a }));
    syscalls.push(entry);
  }
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: EPERM,
    // Docker lists x32 for amd64. Where the kernel refuses x32 calls anyway (x32 built out or off,
    // as on most distributions) compiling the filter for it only costs runc ~5 ms of CPU per
    // start; the one difference left is that a deliberate x32 call gets SIGSYS, not ENOSYS.
    architectures: (SECCOMP_ARCHES[arch] ?? []).filter((a) => a !== 'SCMP_ARCH_X32' || host.x32 !== false),
    syscalls,
  };
}
