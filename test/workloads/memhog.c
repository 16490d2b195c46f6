/*
 * memhog: a controllable memory workload for Tierscope's NUMA lab.
 *
 * Maps an anonymous region, optionally binds it to one NUMA node, fills it with
 * a deterministic pattern, then touches a known "hot" subset of its pages in a
 * loop, so tests can compare what Tierscope reports with ground truth.
 *
 * Output protocol (stdout, line-buffered; see test/workloads/README.md):
 *   MEMHOG size=<bytes> page=<bytes> pages=<n> hot_pages=<n> hot_ranges=<n> ...
 *   HOT <start-address-hex> <length-bytes>        (only with --print-hot)
 *   READY <base-address-hex> <size-bytes>
 *   CHECKSUM <hex> EXPECTED <hex> OK|MISMATCH     (on SIGUSR1)
 *   NODES <node>=<pages> ... unmapped=<n>          (on SIGUSR2)
 *   EXIT passes=<n>                                (on SIGTERM/SIGINT, exit 0)
 * Errors go to stderr as "memhog: ..." with exit status 2 (usage) or 1 (runtime).
 *
 * No libnuma: mbind and move_pages are raw syscalls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MPOL_BIND_ 2
#define MPOL_PREFERRED_ 1
#define MPOL_MF_STRICT_ (1 << 0)
#define MPOL_MF_MOVE_ (1 << 1)
#define HUGE_ALIGN_BYTES (2UL << 20)
#define NODEMASK_BITS 1024
#define MAX_REPORT_NODES 64

static volatile sig_atomic_t want_checksum;
static volatile sig_atomic_t want_nodes;
static volatile sig_atomic_t want_exit;

static void on_signal(int sig) {
  switch (sig) {
  case SIGUSR1: want_checksum = 1; break;
  case SIGUSR2: want_nodes = 1; break;
  default: want_exit = 1; break;
  }
}

static void die_usage(const char *fmt, const char *arg) {
  fprintf(stderr, "memhog: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\nrun 'memhog --help' for usage\n");
  exit(2);
}

static void die_errno(const char *what) {
  fprintf(stderr, "memhog: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* splitmix64: the data pattern and the scattered hot-page choice both derive from it. */
static uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

static uint64_t pattern_word(uint64_t seed, uint64_t index) { return mix64(seed ^ mix64(index)); }

/* Order-sensitive, so a page migrated to the wrong place would also be caught. */
static uint64_t checksum_step(uint64_t h, uint64_t word) { return (h ^ word) * 0x100000001b3ULL; }

struct options {
  uint64_t size_mib;
  double hot_fraction;
  int scattered;
  int thp; /* 1 on, 0 off, -1 leave the system default */
  int touch_write;
  long node;      /* -1: no binding */
  int preferred;  /* node policy: preferred instead of bind */
  long cpu;       /* -1: no pinning */
  uint64_t seed;
  long interval_ms;
  int print_hot;
  const char *hot_file;
};

static void usage(void) {
  puts("usage: memhog --size MiB [options]\n"
       "  --size MiB              region size in MiB (required)\n"
       "  --hot-fraction F        fraction of pages touched in the loop, 0..1 (default 0.1)\n"
       "  --pattern P             contiguous (first pages) | scattered (seeded random) (default contiguous)\n"
       "  --seed N                seed of the data pattern and of scattered hot pages (default 42)\n"
       "  --thp on|off|system     madvise MADV_HUGEPAGE / MADV_NOHUGEPAGE / nothing (default off)\n"
       "  --touch read|write      access kind of the loop; write stores the same value back (default read)\n"
       "  --node N                place the region on node N before first touch (mbind MPOL_BIND)\n"
       "  --preferred             with --node: MPOL_PREFERRED instead of MPOL_BIND\n"
       "  --cpu N                 pin to CPU N\n"
       "  --interval-ms N         sleep between passes over the hot set (default 0)\n"
       "  --print-hot             print HOT <addr-hex> <bytes> lines before READY\n"
       "  --hot-file PATH         write the same '<addr-hex> <bytes>' lines to PATH before READY\n"
       "signals: SIGUSR1 prints CHECKSUM, SIGUSR2 prints NODES, SIGTERM/SIGINT exit 0");
}

static uint64_t parse_u64(const char *s, const char *what) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || *end || s[0] == '-') die_usage("%s must be a non-negative integer", what);
  return (uint64_t)v;
}

static void parse_options(int argc, char **argv, struct options *o) {
  static const struct option longopts[] = {
      {"size", required_argument, 0, 's'},    {"hot-fraction", required_argument, 0, 'f'},
      {"pattern", required_argument, 0, 'p'}, {"seed", required_argument, 0, 'S'},
      {"thp", required_argument, 0, 't'},     {"touch", required_argument, 0, 'T'},
      {"node", required_argument, 0, 'n'},    {"preferred", no_argument, 0, 'P'},
      {"cpu", required_argument, 0, 'c'},     {"interval-ms", required_argument, 0, 'i'},
      {"print-hot", no_argument, 0, 'H'},     {"hot-file", required_argument, 0, 'F'},
      {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
  *o = (struct options){.hot_fraction = 0.1, .thp = 0, .node = -1, .cpu = -1, .seed = 42};
  int c;
  while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    switch (c) {
    case 's': o->size_mib = parse_u64(optarg, "--size"); break;
    case 'f': {
      char *end;
      o->hot_fraction = strtod(optarg, &end);
      if (end == optarg || *end || !(o->hot_fraction >= 0.0 && o->hot_fraction <= 1.0))
        die_usage("--hot-fraction must be a number between 0 and 1, got '%s'", optarg);
      break;
    }
    case 'p':
      if (!strcmp(optarg, "contiguous")) o->scattered = 0;
      else if (!strcmp(optarg, "scattered")) o->scattered = 1;
      else die_usage("--pattern must be contiguous or scattered, got '%s'", optarg);
      break;
    case 'S': o->seed = parse_u64(optarg, "--seed"); break;
    case 't':
      if (!strcmp(optarg, "on")) o->thp = 1;
      else if (!strcmp(optarg, "off")) o->thp = 0;
      else if (!strcmp(optarg, "system")) o->thp = -1;
      else die_usage("--thp must be on, off or system, got '%s'", optarg);
      break;
    case 'T':
      if (!strcmp(optarg, "read")) o->touch_write = 0;
      else if (!strcmp(optarg, "write")) o->touch_write = 1;
      else die_usage("--touch must be read or write, got '%s'", optarg);
      break;
    case 'n': o->node = (long)parse_u64(optarg, "--node"); break;
    case 'P': o->preferred = 1; break;
    case 'c': o->cpu = (long)parse_u64(optarg, "--cpu"); break;
    case 'i': o->interval_ms = (long)parse_u64(optarg, "--interval-ms"); break;
    case 'H': o->print_hot = 1; break;
    case 'F': o->hot_file = optarg; break;
    case 'h': usage(); exit(0);
    default: die_usage("%s", "invalid option");
    }
  }
  if (optind < argc) die_usage("unexpected argument '%s'", argv[optind]);
  if (o->size_mib == 0) die_usage("%s", "--size MiB is required and must be > 0");
  if (o->node >= NODEMASK_BITS) die_usage("%s", "--node is out of range");
  if (o->preferred && o->node < 0) die_usage("%s", "--preferred needs --node");
}

/* Hot page indices, ascending. Scattered: partial Fisher-Yates over all pages. */
static uint64_t *choose_hot(const struct options *o, uint64_t pages, uint64_t hot_pages) {
  uint64_t *hot = malloc((hot_pages ? hot_pages : 1) * sizeof *hot);
  if (!hot) die_errno("malloc hot list");
  if (!o->scattered) {
    for (uint64_t i = 0; i < hot_pages; i++) hot[i] = i;
    return hot;
  }
  uint64_t *perm = malloc(pages * sizeof *perm);
  if (!perm) die_errno("malloc permutation");
  for (uint64_t i = 0; i < pages; i++) perm[i] = i;
  uint64_t state = o->seed ^ 0x5ca77e7edULL;
  for (uint64_t i = 0; i < hot_pages; i++) {
    state = mix64(state);
    uint64_t j = i + state % (pages - i);
    uint64_t t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  /* Sorting by marking: pages fit in a bitmap cheaply. */
  uint8_t *mark = calloc(pages, 1);
  if (!mark) die_errno("calloc");
  for (uint64_t i = 0; i < hot_pages; i++) mark[perm[i]] = 1;
  uint64_t k = 0;
  for (uint64_t i = 0; i < pages; i++)
    if (mark[i]) hot[k++] = i;
  free(mark);
  free(perm);
  return hot;
}

static uint64_t count_ranges(const uint64_t *hot, uint64_t n) {
  uint64_t ranges = 0;
  for (uint64_t i = 0; i < n; i++)
    if (i == 0 || hot[i] != hot[i - 1] + 1) ranges++;
  return ranges;
}

static void write_ranges(FILE *f, const char *prefix, uint8_t *base, uint64_t page_bytes,
                         const uint64_t *hot, uint64_t n) {
  for (uint64_t i = 0; i < n;) {
    uint64_t j = i + 1;
    while (j < n && hot[j] == hot[j - 1] + 1) j++;
    fprintf(f, "%s%" PRIxPTR " %" PRIu64 "\n", prefix, (uintptr_t)(base + hot[i] * page_bytes),
            (j - i) * page_bytes);
    i = j;
  }
}

static void print_checksum(const uint64_t *words, uint64_t nwords, uint64_t seed) {
  uint64_t got = 0xcbf29ce484222325ULL, want = 0xcbf29ce484222325ULL;
  for (uint64_t i = 0; i < nwords; i++) {
    got = checksum_step(got, words[i]);
    want = checksum_step(want, pattern_word(seed, i));
  }
  printf("CHECKSUM %016" PRIx64 " EXPECTED %016" PRIx64 " %s\n", got, want,
         got == want ? "OK" : "MISMATCH");
}

static void print_nodes(uint8_t *base, uint64_t pages, uint64_t page_bytes) {
  enum { CHUNK = 4096 };
  static void *addrs[CHUNK];
  static int status[CHUNK];
  uint64_t per_node[MAX_REPORT_NODES] = {0};
  uint64_t unmapped = 0, other = 0;
  for (uint64_t first = 0; first < pages; first += CHUNK) {
    uint64_t n = pages - first < CHUNK ? pages - first : CHUNK;
    for (uint64_t i = 0; i < n; i++) addrs[i] = base + (first + i) * page_bytes;
    /* nodes == NULL: query only, nothing moves. */
    if (syscall(SYS_move_pages, 0, (unsigned long)n, addrs, NULL, status, 0) != 0) {
      fprintf(stderr, "memhog: move_pages query: %s\n", strerror(errno));
      return;
    }
    for (uint64_t i = 0; i < n; i++) {
      if (status[i] >= 0 && status[i] < MAX_REPORT_NODES) per_node[status[i]]++;
      else if (status[i] == -ENOENT || status[i] == -EFAULT) unmapped++;
      else other++;
    }
  }
  printf("NODES");
  for (int nd = 0; nd < MAX_REPORT_NODES; nd++)
    if (per_node[nd]) printf(" %d=%" PRIu64, nd, per_node[nd]);
  printf(" unmapped=%" PRIu64, unmapped);
  if (other) printf(" error=%" PRIu64, other);
  printf("\n");
}

int main(int argc, char **argv) {
  struct options o;
  parse_options(argc, argv, &o);
  setvbuf(stdout, NULL, _IOLBF, 0);

  const uint64_t page_bytes = (uint64_t)sysconf(_SC_PAGESIZE);
  const uint64_t size_bytes = o.size_mib << 20;
  const uint64_t pages = size_bytes / page_bytes;
  const uint64_t hot_pages = (uint64_t)(o.hot_fraction * (double)pages + 0.5);

  if (o.cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((int)o.cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) die_errno("sched_setaffinity (--cpu)");
  }

  /* 2 MiB-aligned so THP on/off decides huge pages, not the mapping's start. */
  uint8_t *raw = mmap(NULL, size_bytes + HUGE_ALIGN_BYTES, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) die_errno("mmap");
  uint8_t *base = (uint8_t *)(((uintptr_t)raw + HUGE_ALIGN_BYTES - 1) & ~(HUGE_ALIGN_BYTES - 1));
  if (base > raw) munmap(raw, (size_t)(base - raw));
  uint8_t *tail = base + size_bytes;
  size_t tail_bytes = (size_t)((raw + size_bytes + HUGE_ALIGN_BYTES) - tail);
  if (tail_bytes) munmap(tail, tail_bytes);

  if (o.thp == 1 && madvise(base, size_bytes, MADV_HUGEPAGE) != 0) die_errno("madvise(MADV_HUGEPAGE) (--thp on; is THP compiled in?)");
  if (o.thp == 0 && madvise(base, size_bytes, MADV_NOHUGEPAGE) != 0) die_errno("madvise(MADV_NOHUGEPAGE)");

  if (o.node >= 0) {
    unsigned long mask[NODEMASK_BITS / (8 * sizeof(unsigned long))] = {0};
    mask[o.node / (8 * sizeof(unsigned long))] |= 1UL << (o.node % (8 * sizeof(unsigned long)));
    int mode = o.preferred ? MPOL_PREFERRED_ : MPOL_BIND_;
    if (syscall(SYS_mbind, base, (unsigned long)size_bytes, mode, mask,
                (unsigned long)NODEMASK_BITS + 1, MPOL_MF_STRICT_ | MPOL_MF_MOVE_) != 0) {
      fprintf(stderr, "memhog: mbind to node %ld: %s (is the node online and does it have memory?)\n",
              o.node, strerror(errno));
      return 1;
    }
  }

  uint64_t *words = (uint64_t *)base;
  const uint64_t nwords = size_bytes / sizeof(uint64_t);
  for (uint64_t i = 0; i < nwords; i++) words[i] = pattern_word(o.seed, i);

  uint64_t *hot = choose_hot(&o, pages, hot_pages);
  const uint64_t ranges = count_ranges(hot, hot_pages);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, NULL);
  sigaction(SIGUSR2, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  printf("MEMHOG pid=%ld size=%" PRIu64 " page=%" PRIu64 " pages=%" PRIu64 " hot_pages=%" PRIu64
         " hot_ranges=%" PRIu64 " pattern=%s seed=%" PRIu64 " thp=%s touch=%s node=%ld policy=%s\n",
         (long)getpid(), size_bytes, page_bytes, pages, hot_pages, ranges,
         o.scattered ? "scattered" : "contiguous", o.seed,
         o.thp == 1 ? "on" : o.thp == 0 ? "off" : "system", o.touch_write ? "write" : "read",
         o.node, o.node < 0 ? "default" : o.preferred ? "preferred" : "bind");
  if (o.hot_file) {
    FILE *f = fopen(o.hot_file, "w");
    if (!f) die_errno(o.hot_file);
    write_ranges(f, "", base, page_bytes, hot, hot_pages);
    if (fclose(f) != 0) die_errno(o.hot_file);
  }
  if (o.print_hot) write_ranges(stdout, "HOT ", base, page_bytes, hot, hot_pages);
  printf("READY %" PRIxPTR " %" PRIu64 "\n", (uintptr_t)base, size_bytes);

  volatile uint64_t sink = 0;
  uint64_t passes = 0;
  const uint64_t words_per_page = page_bytes / sizeof(uint64_t);
  while (!want_exit) {
    for (uint64_t i = 0; i < hot_pages && !want_exit; i++) {
      volatile uint64_t *p = &words[hot[i] * words_per_page];
      uint64_t v = *p;
      if (o.touch_write) *p = v; /* same value: the checksum stays predictable */
      else sink += v;
      if ((i & 4095) == 4095 && (want_checksum || want_nodes)) break;
    }
    passes++;
    if (want_checksum) {
      want_checksum = 0;
      print_checksum(words, nwords, o.seed);
    }
    if (want_nodes) {
      want_nodes = 0;
      print_nodes(base, pages, page_bytes);
    }
    if (o.interval_ms > 0 && !want_exit) {
      struct timespec ts = {o.interval_ms / 1000, (o.interval_ms % 1000) * 1000000L};
      nanosleep(&ts, NULL); /* EINTR on a signal is fine: the loop re-checks the flags */
    } else if (hot_pages == 0 && !want_exit) {
      /* Nothing to touch: idle instead of spinning (a sleep, not pause(), so a
         signal landing between the flag checks and the wait is not lost). */
      struct timespec ts = {0, 50 * 1000000L};
      nanosleep(&ts, NULL);
    }
  }
  printf("EXIT passes=%" PRIu64 "\n", passes);
  (void)sink;
  free(hot);
  munmap(base, size_bytes);
  return 0;
}
