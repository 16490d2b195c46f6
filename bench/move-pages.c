/*
 * C reference for bench/move-pages-vs-c.ts: the same move_pages(2) calls native-bridge makes — raw
 * syscall(), batches of BATCH pages, one address per page, MPOL_MF_MOVE — on another process's range, timed
 * with CLOCK_MONOTONIC. Prints "pages=<n> ms=<t> calls=<c>" on stdout.
 *
 *   move-pages PID BASE_HEX PAGES BATCH NODE|query
 *
 * NODE moves every page to that node; "query" passes nodes = NULL (where is each page, nothing moves).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MPOL_MF_MOVE (1 << 1)

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s PID BASE_HEX PAGES BATCH NODE|query\n", argv[0]);
    return 2;
  }
  const long pid = strtol(argv[1], NULL, 10);
  const uint64_t base = strtoull(argv[2], NULL, 16);
  const long pages = strtol(argv[3], NULL, 10);
  const long batch = strtol(argv[4], NULL, 10);
  const int query = strcmp(argv[5], "query") == 0;
  const int node = query ? -1 : atoi(argv[5]);
  const long page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || batch <= 0) return 2;

  void **addrs = malloc(sizeof(void *) * (size_t)pages);
  int *nodes = malloc(sizeof(int) * (size_t)pages);
  int *status = malloc(sizeof(int) * (size_t)pages);
  if (!addrs || !nodes || !status) return 1;
  for (long i = 0; i < pages; i++) {
    addrs[i] = (void *)(uintptr_t)(base + (uint64_t)i * (uint64_t)page);
    nodes[i] = node;
  }
  long calls = 0;
  const double t0 = now_ms();
  /* As native-bridge does: statuses pre-filled with "not reported" (INT_MIN), inside the timed region. */
  for (long i = 0; i < pages; i++) status[i] = INT32_MIN;
  for (long start = 0; start < pages; start += batch) {
    const long n = pages - start < batch ? pages - start : batch;
    long ret = syscall(SYS_move_pages, pid, n, addrs + start, query ? NULL : nodes + start, status + start,
                       query ? 0 : MPOL_MF_MOVE);
    calls++;
    if (ret < 0) {
      fprintf(stderr, "move_pages: %s\n", strerror(errno));
      return 1;
    }
  }
  const double ms = now_ms() - t0;
  printf("pages=%ld ms=%.3f calls=%ld\n", pages, ms, calls);
  return 0;
}
