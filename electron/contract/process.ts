import { z } from 'zod';
import { Bytes } from './common.js';

export const ProcessInfo = z.object({
  pid: z.number().int().positive(),
  comm: z.string(),
  /** Command line joined by spaces; empty for kernel threads. */
  cmdline: z.string(),
  uid: z.number().int().nonnegative(),
  user: z.string(),
  rssBytes: Bytes,
  /** Start time in clock ticks after boot (/proc/PID/stat field 22): with pid it identifies a process across PID reuse. */
  startTimeTicks: z.number().int().nonnegative(),
  /** Wall-clock start time, ISO 8601, derived from boot time + startTimeTicks. */
  startTime: z.string(),
  /** False for kernel threads (no mm): nothing of theirs can be profiled. */
  hasUserMemory: z.boolean(),
});
export type ProcessInfo = z.infer<typeof ProcessInfo>;
