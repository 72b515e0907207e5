/**
 * dcmjs-dimse (PS3.7 DIMSE and PS3.8 upper layer over TCP), loaded once. The package is a UMD bundle:
 * under ESM its exports sit on `default`, under a bundler on the namespace itself.
 */
import * as ns from 'dcmjs-dimse';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from './part10-file';

const lib = ((ns as unknown as { default?: typeof ns }).default ?? ns) as typeof ns;

// The library logs every PDU at info level; keep warnings and errors only (they carry no data set).
lib.log.setLevel('warn');

// PS3.7 D.3.3.2: the Implementation Class UID and Version Name of association requests and accepts
// are the archive's (those of its Part 10 files), not the library's defaults.
lib.Implementation.setImplementationClassUid(IMPLEMENTATION_CLASS_UID);
lib.Implementation.setImplementationVersion(IMPLEMENTATION_VERSION_NAME);

export const { Client, Dataset, Scp, constants } = lib;
export const { CEchoResponse, CFindResponse, CMoveResponse, CStoreResponse } = lib.responses;
export const { CStoreRequest, CFindRequest, CMoveRequest } = lib.requests;
export const { PresentationContext } = lib.association;
type Instance<T extends abstract new (...args: never[]) => unknown> = InstanceType<T>;
export type Association = Instance<typeof lib.association.Association>;
export type PresentationContext = Instance<typeof lib.association.PresentationContext>;
export type CEchoRequest = Instance<typeof lib.requests.CEchoRequest>;
export type CFindRequest = Instance<typeof lib.requests.CFindRequest>;
export type CMoveRequest = Instance<typeof lib.requests.CMoveRequest>;
export type CCancelRequest = Instance<typeof lib.requests.CCancelRequest>;
export type DimseCStoreRequest = Instance<typeof lib.requests.CStoreRequest>;
export type DimseDataset = Instance<typeof lib.Dataset>;
export type DimseClient = Instance<typeof lib.Client>;
