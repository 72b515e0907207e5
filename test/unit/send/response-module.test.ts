import { describe, expect, it } from 'vitest';
import { tooLargeComment } from '../../../lambdas/send/send-response';
import {
  MalformedSendResponseError,
  SendStatus,
  decodeSendRequestResponse,
  encodeSendRequestResponse,
  httpStatusOf,
  matchedOf,
  sendRequestResponse,
  sendStatus,
  unableToCalculateMatchesResponse,
} from '../../../lambdas/send/response-module';

// Sup 248 Annex B.X1, step 2 (202 Accepted) and step 4 (200 OK), copied from the example.
const EXAMPLE_PENDING = `[ { "00000900": { "vr": "US", "Value": [ 65280 ] }
  , "00001020": { "vr": "US", "Value": [ 5 ] }
  , "00001021": { "vr": "US", "Value": [ 0 ] }
  , "00001022": { "vr": "US", "Value": [ 0 ] }
  , "00001023": { "vr": "US", "Value": [ 0 ] }
} ]`;
const EXAMPLE_FINAL = `[ { "00000900": { "vr": "US", "Value": [ 0 ] }
  , "00001021": { "vr": "US", "Value": [ 5 ] }
  , "00001022": { "vr": "US", "Value": [ 0 ] }
  , "00001023": { "vr": "US", "Value": [ 0 ] }
} ]`;

describe('Send Request Response Module (Sup 248 Annex @)', () => {
  it('encodes example B.X1 step 2: pending, 5 remaining, answered with 202', () => {
    const r = sendRequestResponse({ remaining: 5, completed: 0, failed: 0, warning: 0 });
    expect(r.status).toBe(SendStatus.Pending);
    expect(httpStatusOf(r)).toBe(202);
    expect(encodeSendRequestResponse(r)).toEqual(JSON.parse(EXAMPLE_PENDING));
    expect(Object.keys(encodeSendRequestResponse(r)[0]!)).toEqual(Object.keys(JSON.parse(EXAMPLE_PENDING)[0]));
  });

  it('encodes example B.X1 step 4: success, Remaining omitted, answered with 200', () => {
    const r = sendRequestResponse({ remaining: 0, completed: 5, failed: 0, warning: 0 });
    expect(httpStatusOf(r)).toBe(200);
    expect(encodeSendRequestResponse(r)).toEqual(JSON.parse(EXAMPLE_FINAL));
  });

  it('decodes both examples back to the same content', () => {
    expect(decodeSendRequestResponse(JSON.parse(EXAMPLE_PENDING))).toEqual({
      status: 0xff00,
      remaining: 5,
      completed: 0,
      failed: 0,
      warning: 0,
    });
    const final = decodeSendRequestResponse(JSON.parse(EXAMPLE_FINAL));
    expect(final).toEqual({ status: 0, completed: 5, failed: 0, warning: 0 });
    expect(matchedOf(final)).toBe(5);
  });

  it('lists failed SOP Instance UIDs (0008,0058) only once final and when something failed', () => {
    const pending = sendRequestResponse({ remaining: 1, completed: 1, failed: 1, warning: 0 }, ['1.2.3']);
    expect(encodeSendRequestResponse(pending)[0]).not.toHaveProperty('00080058');
    const final = sendRequestResponse({ remaining: 0, completed: 1, failed: 1, warning: 0 }, ['1.2.3']);
    expect(encodeSendRequestResponse(final)[0]!['00080058']).toEqual({ vr: 'UI', Value: ['1.2.3'] });
    expect(decodeSendRequestResponse(encodeSendRequestResponse(final)).failedSOPInstanceUIDList).toEqual(['1.2.3']);
    const clean = sendRequestResponse({ remaining: 0, completed: 2, failed: 0, warning: 0 }, ['1.2.3']);
    expect(encodeSendRequestResponse(clean)[0]).not.toHaveProperty('00080058');
  });

  it.each([
    ['nothing matched', { remaining: 0, completed: 0, failed: 0, warning: 0 }, SendStatus.Success],
    ['all completed', { remaining: 0, completed: 3, failed: 0, warning: 0 }, SendStatus.Success],
    ['some failed', { remaining: 0, completed: 2, failed: 1, warning: 0 }, SendStatus.Warning],
    ['one warned', { remaining: 0, completed: 2, failed: 0, warning: 1 }, SendStatus.Warning],
    ['all warned', { remaining: 0, completed: 0, failed: 0, warning: 3 }, SendStatus.Warning],
    ['warned and failed', { remaining: 0, completed: 0, failed: 2, warning: 1 }, SendStatus.Warning],
    ['all failed', { remaining: 0, completed: 0, failed: 3, warning: 0 }, SendStatus.UnableToPerformSubOperations],
    ['still running', { remaining: 1, completed: 0, failed: 3, warning: 0 }, SendStatus.Pending],
  ])('status per PS3.4 C.4.2.3.1: %s', (_, counters, status) => {
    expect(sendStatus(counters)).toBe(status);
  });

  it('carries an Error Comment (0000,0902) of at most 64 characters in a final module, and decodes it', () => {
    const comment = tooLargeComment(1)!;
    const [module] = encodeSendRequestResponse({ status: 0xb000, completed: 1, failed: 1, warning: 0, errorComment: comment });
    expect(module!['00000902']).toEqual({ vr: 'LO', Value: [comment] });
    expect(decodeSendRequestResponse([module]).errorComment).toBe(comment);
    expect(tooLargeComment(0)).toBeUndefined();
    expect(tooLargeComment(1_000_000)!.length).toBeLessThanOrEqual(64);
  });

  it('uses the C-MOVE status values of PS3.2 Table N.7-51', () => {
    expect(SendStatus).toEqual({
      Success: 0x0000,
      Warning: 0xb000,
      UnableToCalculateMatches: 0xa701,
      UnableToPerformSubOperations: 0xa702,
      Pending: 0xff00,
    });
  });

  it('answers A701 with zero counters when the matches could not be determined', () => {
    const r = unableToCalculateMatchesResponse();
    expect(httpStatusOf(r)).toBe(200);
    expect(encodeSendRequestResponse(r)).toEqual([
      {
        '00000900': { vr: 'US', Value: [0xa701] },
        '00001021': { vr: 'US', Value: [0] },
        '00001022': { vr: 'US', Value: [0] },
        '00001023': { vr: 'US', Value: [0] },
      },
    ]);
  });

  it.each([
    ['an empty array', []],
    ['two objects', [{}, {}]],
    ['a string', 'x'],
    ['no Status', [{ '00001021': { vr: 'US', Value: [1] } }]],
    [
      'pending without Remaining',
      [
        {
          '00000900': { vr: 'US', Value: [0xff00] },
          '00001021': { vr: 'US', Value: [0] },
          '00001022': { vr: 'US', Value: [0] },
          '00001023': { vr: 'US', Value: [0] },
        },
      ],
    ],
    [
      'a negative counter',
      [
        {
          '00000900': { vr: 'US', Value: [0] },
          '00001021': { vr: 'US', Value: [-1] },
          '00001022': { vr: 'US', Value: [0] },
          '00001023': { vr: 'US', Value: [0] },
        },
      ],
    ],
  ])('refuses to decode %s', (_, payload) => {
    expect(() => decodeSendRequestResponse(payload)).toThrow(MalformedSendResponseError);
  });
});
