/**
 * The storage cost options from context (docs/configuration.md, "Storage classes and tiering";
 * docs/cost.md): how instance objects tier down with age, how long replaced or deleted object
 * versions are kept, and the index table's class.
 */
import type { Construct } from 'constructs';
import { ArchiveContextError } from './context-error';
import {
  DEFAULT_STORAGE_TIERING,
  GSI_PROJECTIONS,
  INSTANCE_TIERS,
  TABLE_CLASSES,
  type GsiProjections,
  type StorageTiering,
} from './constructs/storage-tiering';

/** Contexts `instanceTier`, `instanceTierAfterDays`, `noncurrentVersionDays`, `tableClass`. */
export function storageTieringFromContext(node: Construct['node']): StorageTiering {
  const oneOf = <T extends string>(key: string, values: readonly T[], fallback: T): T => {
    const v: unknown = node.tryGetContext(key);
    if (v === undefined || v === '') return fallback;
    if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as T;
    throw new ArchiveContextError(key, v, `one of ${values.map((x) => `'${x}'`).join(', ')}`);
  };
  const days = (key: string, fallback: number, min: number): number => {
    const v: unknown = node.tryGetContext(key);
    if (v === undefined || v === '') return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new ArchiveContextError(key, v, `a whole number of days, at least ${min}`);
    return n;
  };
  const instanceTier = oneOf('instanceTier', INSTANCE_TIERS, DEFAULT_STORAGE_TIERING.instanceTier);
  // Glacier Instant Retrieval bills 90 days at least: moving objects earlier only adds that charge.
  const instanceTierAfterDays = days(
    'instanceTierAfterDays',
    instanceTier === 'intelligent-tiering' ? 0 : DEFAULT_STORAGE_TIERING.instanceTierAfterDays,
    instanceTier === 'glacier-ir' ? 90 : 0,
  );
  return {
    instanceTier,
    instanceTierAfterDays,
    noncurrentVersionDays: days('noncurrentVersionDays', DEFAULT_STORAGE_TIERING.noncurrentVersionDays, 1),
    tableClass: oneOf('tableClass', TABLE_CLASSES, DEFAULT_STORAGE_TIERING.tableClass),
  };
}

/** Context `gsiProjections`: 'lean' (default) or 'all' (a stack deployed before the lean projections). */
export function gsiProjectionsFromContext(node: Construct['node']): GsiProjections {
  const v: unknown = node.tryGetContext('gsiProjections');
  if (v === undefined || v === '') return 'lean';
  if (typeof v === 'string' && (GSI_PROJECTIONS as readonly string[]).includes(v)) return v as GsiProjections;
  throw new ArchiveContextError('gsiProjections', v, `one of ${GSI_PROJECTIONS.map((x) => `'${x}'`).join(', ')}`);
}
