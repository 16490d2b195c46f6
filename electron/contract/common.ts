import { z } from 'zod';

/** A user-space virtual address as a lowercase hex string without 0x ("7f3a2c000000"), as /proc prints it. */
export const HexAddress = z.string().regex(/^[0-9a-f]{1,16}$/, 'hex address without 0x');
export type HexAddress = z.infer<typeof HexAddress>;

/** Node id (as a decimal string key) → count. JSON objects cannot have numeric keys, so ids are strings. */
export const CountByNode = z.record(z.string().regex(/^\d+$/), z.number().int().nonnegative());
export type CountByNode = z.infer<typeof CountByNode>;

export const Bytes = z.number().int().nonnegative();
export const Pages = z.number().int().nonnegative();
