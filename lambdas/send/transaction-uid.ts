/**
 * The {transactionUID} path segment of Send and Check Send Result (PS3.18 10.X.1, 10.Y.1): a UID that
 * the user agent chooses, syntactically valid per PS3.5 9.1.
 */

import { isValidUid } from '../dicom/uid';
import { BadRequestError } from '../dicomweb/errors';

/** The Transaction UID of the request path, or 400 when it is not a UID (PS3.5 9.1). */
export function parseTransactionUID(raw: string | undefined): string {
  if (raw === undefined || raw === '') {
    throw new BadRequestError('the Transaction UID is missing', [{ target: 'transactionUID', message: 'required' }]);
  }
  if (!isValidUid(raw)) {
    // A UID is digits and dots only, so echoing a valid one is harmless; an invalid one is not echoed.
    throw new BadRequestError('the Transaction UID is not a valid UID (PS3.5 9.1)', [
      { target: 'transactionUID', message: 'at most 64 characters of digits and dots, components without leading zeros' },
    ]);
  }
  return raw;
}
