/**
 * CDK: storage tiering (lib/constructs/storage-tiering.ts, lib/storage-context.ts): the lifecycle rule
 * of instance objects, noncurrent version expiry and the index table's class, from context.
 */
import { describe, expect, it } from 'vitest';
import { ArchiveContextError } from '../../lib/archive-stack';
import { synth, type Resources } from './helpers';

/** The archive's object bucket (the one with a KMS default key) and its lifecycle rules. */
function objectBucketRules(context: Record<string, unknown> = {}): { rules: Record<string, any>[]; table: Record<string, any> } {
  const resources = synth(context).template.toJSON().Resources as Resources;
  const bucket = Object.values(resources).find(
    (r) =>
      r.Type === 'AWS::S3::Bucket' &&
      r.Properties.BucketEncryption?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault?.SSEAlgorithm === 'aws:kms' &&
      r.Properties.LoggingConfiguration?.LogFilePrefix === 'objects/',
  )!;
  const table = Object.values(resources).find((r) => r.Type === 'AWS::DynamoDB::Table' && r.Properties.GlobalSecondaryIndexes)!;
  return { rules: bucket.Properties.LifecycleConfiguration.Rules, table: table.Properties };
}

describe('storage tiering', () => {
  it('by default moves instance objects over 128 KiB under studies/ to Glacier Instant Retrieval at 90 days', () => {
    const { rules, table } = objectBucketRules();
    expect(rules).toContainEqual({
      Id: 'InstanceObjectsTierDown',
      Status: 'Enabled',
      Prefix: 'studies/',
      ObjectSizeGreaterThan: 131072,
      Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 90 }],
    });
    // The rule is the only one that moves objects: metadata, thumbnails, send manifests stay in Standard.
    expect(rules.filter((r) => r.Transitions)).toHaveLength(1);
    // Replaced and deleted versions expire after 30 days.
    expect(rules).toContainEqual(expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 30 } }));
    expect(table.TableClass).toBe('STANDARD');
  });

  it('Intelligent-Tiering from creation, other version retention and Standard-IA by context', () => {
    const { rules, table } = objectBucketRules({
      instanceTier: 'intelligent-tiering',
      noncurrentVersionDays: '7',
      tableClass: 'standard-ia',
    });
    expect(rules).toContainEqual(
      expect.objectContaining({
        Prefix: 'studies/',
        ObjectSizeGreaterThan: 131072,
        Transitions: [{ StorageClass: 'INTELLIGENT_TIERING', TransitionInDays: 0 }],
      }),
    );
    expect(rules).toContainEqual(expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 7 } }));
    expect(table.TableClass).toBe('STANDARD_INFREQUENT_ACCESS');
  });

  it('none: no rule moves objects', () => {
    const { rules } = objectBucketRules({ instanceTier: 'none' });
    expect(rules.filter((r) => r.Transitions)).toEqual([]);
  });

  it('refuses what it cannot deploy', () => {
    expect(() => synth({ instanceTier: 'glacier' })).toThrow(ArchiveContextError);
    expect(() => synth({ tableClass: 'ia' })).toThrow(ArchiveContextError);
    expect(() => synth({ noncurrentVersionDays: '0' })).toThrow(ArchiveContextError);
    // Glacier Instant Retrieval bills 90 days at least.
    expect(() => synth({ instanceTierAfterDays: '30' })).toThrow(/at least 90/);
    expect(() => synth({ instanceTierAfterDays: '30' })).toThrow(ArchiveContextError);
  });
});
