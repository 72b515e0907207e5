/**
 * Storage classes of the archive's data (docs/cost.md, "Storage tiering"): an S3 lifecycle rule that
 * moves Part 10 instance objects to a cheaper class with age, and the index table's class; the
 * choices and their defaults are in ../cost/tiering.ts, which the cost model prices.
 *
 * The rule selects `studies/` objects larger than 128 KiB: the Part 10 files of images. The DICOM JSON
 * metadata objects and derived thumbnails under the same prefix are small (a few KB to tens of KB)
 * and read on every /metadata and /thumbnail request: they stay in S3 Standard. A size filter needs no
 * write of its own, where object tags would cost a PutObjectTagging per object and a monthly charge
 * per tag, and would have to be set by every writer; 128 KiB is also the size below which S3
 * Intelligent-Tiering does not monitor or tier an object and Glacier Instant Retrieval bills an object
 * as 128 KiB anyway, so smaller instances gain nothing from either.
 */
import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { KEY_PREFIXES } from '../../lambdas/storage/keys';
import type { GsiSpec } from '../../lambdas/storage/table-schema';
import { TIERED_OBJECT_MIN_BYTES, type StorageTiering } from '../cost/tiering';

export { DEFAULT_STORAGE_TIERING, INSTANCE_TIERS, TABLE_CLASSES, type StorageTiering } from '../cost/tiering';

/** The lifecycle rule of instance objects, or none. */
export function instanceTieringRule(tiering: StorageTiering): s3.LifecycleRule | undefined {
  if (tiering.instanceTier === 'none') return undefined;
  if (tiering.instanceTier === 'glacier-ir' && tiering.instanceTierAfterDays < 90)
    throw new Error('instanceTierAfterDays: Glacier Instant Retrieval bills 90 days at least; move objects at 90 days or later');
  return {
    id: 'InstanceObjectsTierDown',
    prefix: KEY_PREFIXES.studies,
    objectSizeGreaterThan: TIERED_OBJECT_MIN_BYTES,
    transitions: [
      {
        storageClass:
          tiering.instanceTier === 'glacier-ir' ? s3.StorageClass.GLACIER_INSTANT_RETRIEVAL : s3.StorageClass.INTELLIGENT_TIERING,
        transitionAfter: Duration.days(tiering.instanceTierAfterDays),
      },
    ],
  };
}

export function tableClassOf(tiering: StorageTiering): dynamodb.TableClass {
  return tiering.tableClass === 'standard-ia' ? dynamodb.TableClass.STANDARD_INFREQUENT_ACCESS : dynamodb.TableClass.STANDARD;
}

/**
 * What the index's GSIs copy (context `gsiProjections`): `lean`, each GSI's own projection
 * (table-schema.ts: keys, and the name terms' attributes in ByLevel); `all`, every attribute, as
 * stacks deployed before the lean projections have them, since CloudFormation cannot change a GSI's
 * projection in place (docs/architecture.md, storage model).
 */
export const GSI_PROJECTIONS = ['lean', 'all'] as const;
export type GsiProjections = (typeof GSI_PROJECTIONS)[number];

/** A GSI's projection as the table construct takes it: the spec's (table-schema.ts), or every attribute. */
export function gsiProjectionOf(
  gsi: GsiSpec,
  projections: GsiProjections,
): { projectionType: dynamodb.ProjectionType; nonKeyAttributes?: string[] } {
  if (projections === 'all') return { projectionType: dynamodb.ProjectionType.ALL };
  if (gsi.projection.type === 'KEYS_ONLY') return { projectionType: dynamodb.ProjectionType.KEYS_ONLY };
  return { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: [...gsi.projection.nonKeyAttributes] };
}
