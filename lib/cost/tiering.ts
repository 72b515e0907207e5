/**
 * The storage classes a deployment chooses (context options, lib/storage-context.ts) and their defaults:
 * shared by the storage construct (lib/constructs/storage-tiering.ts) and the cost model
 * (lib/cost/model.ts), so `npm run cost` prices what the stack deploys.
 */

/** Where instance objects go with age: S3 Glacier Instant Retrieval, S3 Intelligent-Tiering, or nowhere. */
export const INSTANCE_TIERS = ['glacier-ir', 'intelligent-tiering', 'none'] as const;
export type InstanceTier = (typeof INSTANCE_TIERS)[number];

export const TABLE_CLASSES = ['standard', 'standard-ia'] as const;
export type IndexTableClass = (typeof TABLE_CLASSES)[number];

export interface StorageTiering {
  readonly instanceTier: InstanceTier;
  /** Days after its creation an instance object moves (Glacier IR bills 90 days at least, so not earlier). */
  readonly instanceTierAfterDays: number;
  /** Days a replaced or deleted object version is kept (the bucket is versioned) before it expires. */
  readonly noncurrentVersionDays: number;
  /** DynamoDB table class of the index: Standard-IA stores for 60 % less and bills requests 25 % more. */
  readonly tableClass: IndexTableClass;
}

/**
 * Defaults: an image is mostly read in the weeks after it is made; after 90 days a prior is read
 * rarely, and Glacier Instant Retrieval keeps it at millisecond latency for about a sixth of Standard's
 * storage price and a retrieval fee per GB read (docs/cost.md compares the classes).
 */
export const DEFAULT_STORAGE_TIERING: StorageTiering = {
  instanceTier: 'glacier-ir',
  instanceTierAfterDays: 90,
  noncurrentVersionDays: 30,
  tableClass: 'standard',
};

/**
 * The smallest object the instance rule moves, in bytes (exclusive: ObjectSizeGreaterThan): below it
 * S3 Intelligent-Tiering neither monitors nor tiers an object, and Glacier Instant Retrieval bills an
 * object as 128 KiB anyway.
 */
export const TIERED_OBJECT_MIN_BYTES = 128 * 1024;
