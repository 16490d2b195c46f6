// Maps N pages as N separate anonymous VMAs (every other page read-only, so the kernel cannot merge
// neighbours), touches each page, prints "READY" and waits for stdin to close. For bench/ only.
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long count = argc > 1 ? atol(argv[1]) : 10000;
  long page = sysconf(_SC_PAGESIZE);
  char *base = mmap(NULL, (size_t)(count * page), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) { perror("mmap"); return 1; }
  for (long i = 0; i < count; i++) base[i * page] = (char)i;
  for (long i = 0; i < count; i += 2) {
    if (mprotect(base + i * page, (size_t)page, PROT_READ) != 0) { perror("mprotect"); return 1; }
  }
  printf("READY\n");
  fflush(stdout);
  char buf[64];
  while (read(0, buf, sizeof buf) > 0) {}
  return 0;
}
