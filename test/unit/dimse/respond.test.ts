import { describe, expect, it } from 'vitest';
import { CFindRequest, CFindResponse, CMoveRequest, CMoveResponse } from '../../../lambdas/dimse/lib';
import { isPending, respond, type ResponseChannel } from '../../../lambdas/dimse/respond';
import { Status } from '../../../lambdas/dimse/status';

type FindOrMove = InstanceType<typeof CFindResponse> | InstanceType<typeof CMoveResponse>;

/** A channel that records where each response went. */
function recording<R extends FindOrMove>(): ResponseChannel<R> & { readonly sent: ['pending' | 'final', R][] } {
  const sent: ['pending' | 'final', R][] = [];
  return { sent, pending: (r) => sent.push(['pending', r]), final: (r) => sent.push(['final', r]) };
}

describe('respond (C-FIND and C-MOVE responses, PS3.7 9.1.2.2, 9.1.4.2)', () => {
  it('sends Pending responses (FF00, FF01) on and any other status as the final one', () => {
    const request = CFindRequest.createStudyFindRequest({ PatientID: '' });
    const channel = recording<InstanceType<typeof CFindResponse>>();
    for (const status of [Status.Pending, Status.PendingWithUnsupportedOptionalKeys, Status.Success]) {
      respond(channel, request, CFindResponse.fromRequest(request), { status });
    }
    expect(channel.sent.map(([to, r]) => [to, r.getStatus()])).toEqual([
      ['pending', Status.Pending],
      ['pending', Status.PendingWithUnsupportedOptionalKeys],
      ['final', Status.Success],
    ]);
    expect([Status.Cancel, Status.IdentifierDoesNotMatchSOPClass, Status.UnableToProcess].some(isPending)).toBe(false);
  });

  it("carries the Identifier in the request's transfer syntax", () => {
    const request = CFindRequest.createStudyFindRequest({ PatientID: '' });
    const channel = recording<InstanceType<typeof CFindResponse>>();
    respond(channel, request, CFindResponse.fromRequest(request), {
      status: Status.Pending,
      identifier: { '00100020': { vr: 'LO', Value: ['P1'] } },
    });
    const [, response] = channel.sent[0]!;
    expect(response.getDataset()!.getElement('PatientID')).toBe('P1');
    expect(response.getDataset()!.getTransferSyntaxUid()).toBe(request.getDataset()!.getTransferSyntaxUid());
  });

  it('sets Error Comment (at most 64 characters) and Offending Element (AT as numbers) on a final C-MOVE response', () => {
    const request = CMoveRequest.createStudyMoveRequest('DEST', '1.2.3');
    const channel = recording<InstanceType<typeof CMoveResponse>>();
    const comment = 'x'.repeat(80);
    respond(channel, request, CMoveResponse.fromRequest(request), {
      status: Status.IdentifierDoesNotMatchSOPClass,
      comment,
      offendingElements: ['0020000D'],
    });
    const [to, response] = channel.sent[0]!;
    expect(to).toBe('final');
    expect(response.getStatus()).toBe(Status.IdentifierDoesNotMatchSOPClass);
    expect(response.getErrorComment()).toBe(comment.slice(0, 64));
    expect(response.getCommandDataset().getElement('OffendingElement')).toEqual([0x0020000d]);
    expect(response.getDataset()).toBeUndefined();
  });
});
