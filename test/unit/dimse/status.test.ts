import { describe, expect, it } from 'vitest';
import { FailureReason, WarningReason } from '../../../lambdas/dicomweb/status-codes';
import { DuplicateSOPInstance, type StoreOutcome } from '../../../lambdas/dicomweb/store';
import { cStoreResultOf, cStoreStatusOf, Status } from '../../../lambdas/dimse/status';

const stored = (warningReason?: number): StoreOutcome => ({
  referenced: { sopClassUID: '1.2', sopInstanceUID: '1.3', retrieveUrl: 'x', ...(warningReason !== undefined ? { warningReason } : {}) },
});
const failed = (failureReason: number): StoreOutcome => ({ failed: { sopClassUID: '1.2', sopInstanceUID: '1.3', failureReason } });

describe('C-STORE SCP status (PS3.2 Table N.7-43) from the store outcome', () => {
  it.each([
    ['stored', stored(), 0x0000],
    ['coerced', stored(WarningReason.CoercionOfDataElements), 0xb000],
    ['elements discarded', stored(WarningReason.ElementsDiscarded), 0xb006],
    ['stored though not matching the SOP Class', stored(WarningReason.DataSetDoesNotMatchSOPClass), 0xb007],
    ['out of storage', failed(FailureReason.OutOfStorage), 0xa700],
    ['out of memory', failed(FailureReason.OutOfMemory), 0xa700],
    ['not matching the SOP Class', failed(FailureReason.DataSetDoesNotMatchSOPClass), 0xa901],
    ['a duplicate SOP Instance with other content', failed(DuplicateSOPInstance), 0xa901],
    ['not understood', failed(FailureReason.CannotUnderstand), 0xc000],
    ['unsupported transfer syntax', failed(FailureReason.ReferencedTransferSyntaxNotSupported), 0xc000],
  ])('%s -> %s', (_name, outcome, status) => {
    expect(cStoreStatusOf(outcome)).toBe(status);
  });

  it('[dimse.cstore-scp.0110] a study or series being deleted (Failure Reason 0110) -> 0110 Processing failure', () => {
    expect(cStoreStatusOf(failed(FailureReason.ProcessingFailure))).toBe(0x0110);
  });
});

describe('C-STORE SCU counting (PS3.2 Table N.7-42, PS3.4 C.4.2.3.1.1.4)', () => {
  it('[dimse.cstore-scu.0000] 0000 counts Completed', () => {
    expect(cStoreResultOf(0x0000)).toBe('completed');
  });

  it('[dimse.cstore-scu.warning] B000, B007 and B006 count Warning (stored; never retried)', () => {
    expect([0xb000, 0xb007, 0xb006].map(cStoreResultOf)).toEqual(['warning', 'warning', 'warning']);
  });

  it('[dimse.cstore-scu.failure] 0112, 0117, 0210-0214, A7xx, A9xx and Cxxx count Failed', () => {
    const failures = [0x0112, 0x0117, 0x0210, 0x0211, 0x0212, 0x0214, 0xa700, 0xa7ff, 0xa900, 0xa9ff, 0xc000, 0xcfff];
    expect(failures.map(cStoreResultOf)).toEqual(failures.map(() => 'failed'));
  });

  it('[dimse.cstore-scu.other] any other status counts Failed (not known to be stored)', () => {
    expect([0x1234, 0xfe00, 0xff00, 0x0001].map(cStoreResultOf)).toEqual(['failed', 'failed', 'failed', 'failed']);
  });

  it('names the statuses of the SCP tables', () => {
    expect(Status).toMatchObject({ Cancel: 0xfe00, Pending: 0xff00, MoveDestinationUnknown: 0xa801, UnableToCalculateMatches: 0xa701 });
  });
});
