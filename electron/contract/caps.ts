import { z } from 'zod';

export const AccessSourceId = z.enum(['idle_pages', 'page_idle', 'damon', 'refs']);
export type AccessSourceId = z.infer<typeof AccessSourceId>;

export const SourceAvailability = z.object({
  id: AccessSourceId,
  available: z.boolean(),
  /** Why it is (not) usable, in words a user can act on: what is missing and what would enable it. */
  reason: z.string(),
});
export type SourceAvailability = z.infer<typeof SourceAvailability>;

export const Capabilities = z.object({
  kernelRelease: z.string(),
  uid: z.number().int().nonnegative(),
  euid: z.number().int().nonnegative(),
  capSysAdmin: z.boolean(),
  capSysNice: z.boolean(),
  /**
   * Whether move_pages/migrate_pages may act on other users' processes: the kernel first applies a ptrace
   * access check (CAP_SYS_PTRACE) and then wants CAP_SYS_NICE; it checks capabilities, not uid 0.
   */
  canMigrateOthers: z.boolean(),
  damon: z
    .object({
      kdamonds: z.number().int().nonnegative(),
      /** kdamonds whose state is "on": in use by someone, never touched by Tierscope unless it created them. */
      kdamondsRunning: z.number().int().nonnegative(),
    })
    .nullable(),
  /** In preference order: idle_pages, page_idle, damon, refs. */
  sources: z.array(SourceAvailability),
});
export type Capabilities = z.infer<typeof Capabilities>;
