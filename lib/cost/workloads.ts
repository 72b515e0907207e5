/**
 * The workloads of issue 26 that `npm run cost` prices (docs/cost.md): 1,000 instances stored; a CT
 * and an MR study stored, kept a year, retrieved twice and sent once; a month of a teleradiology group
 * and of a hospital share, once their archive holds their retention; the idle deployment is ./idle.ts.
 * Study shapes and rates not given by the issue are stated here, and in docs/cost.md.
 */
import { Bill, type CostModel } from './model';

export interface StudyShape {
  readonly label: string;
  readonly instances: number;
  readonly instanceBytes: number;
}

export const CT_STUDY: StudyShape = { label: 'CT, 500 x 0.5 MB', instances: 500, instanceBytes: 500_000 };
export const MR_STUDY: StudyShape = { label: 'MR, 300 x 0.25 MB', instances: 300, instanceBytes: 250_000 };
/** A radiograph study (CR/DX): two views of about 8 MB, the bulk of a hospital's studies by count. */
export const XR_STUDY: StudyShape = { label: 'radiograph, 2 x 8 MB', instances: 2, instanceBytes: 8_000_000 };

export function studyBytes(s: StudyShape): number {
  return s.instances * s.instanceBytes;
}

/** A steady month of an archive that has filled to its retention. */
export interface MonthlyWorkload {
  readonly id: string;
  readonly title: string;
  /** Studies arriving per month, by shape. */
  readonly studies: readonly { readonly shape: StudyShape; readonly perMonth: number }[];
  readonly retentionMonths: number;
  /** Whole retrievals of each study in its first month (reading, review). */
  readonly retrievalsFirstMonth: number;
  /** Share of the stored studies retrieved again each later month (priors), from their storage class then. */
  readonly priorRetrievalsPerStudyMonth: number;
  /** Sends of each study (to the referring site, another PACS). */
  readonly sendsPerStudy: number;
  /** Searches (QIDO-RS queries) per study. */
  readonly searchesPerStudy: number;
}

export const TELERADIOLOGY: MonthlyWorkload = {
  id: 'teleradiology',
  title: 'Teleradiology group: 3,000 studies a month, kept 12 months',
  studies: [
    { shape: CT_STUDY, perMonth: 1500 },
    { shape: MR_STUDY, perMonth: 1500 },
  ],
  retentionMonths: 12,
  retrievalsFirstMonth: 2,
  priorRetrievalsPerStudyMonth: 0.02,
  sendsPerStudy: 1,
  searchesPerStudy: 5,
};

export const HOSPITAL: MonthlyWorkload = {
  id: 'hospital',
  title: 'Hospital share: 30,000 studies a month, kept 7 years',
  studies: [
    { shape: CT_STUDY, perMonth: 6000 },
    { shape: MR_STUDY, perMonth: 6000 },
    { shape: XR_STUDY, perMonth: 18000 },
  ],
  retentionMonths: 84,
  retrievalsFirstMonth: 1,
  priorRetrievalsPerStudyMonth: 0.005,
  sendsPerStudy: 0.1,
  searchesPerStudy: 3,
};

/** Storing `count` instances of `bytes`: the Store requests, and a month of their storage. */
export function storeInstances(model: CostModel, count: number, bytes: number): { store: Bill; month: Bill } {
  return { store: model.transaction('store', count, bytes), month: model.storageMonth(count, bytes, 0) };
}

/** One study stored, kept `months`, retrieved `retrievals` times and sent `sends` times in its first month. */
export function studyLifetime(model: CostModel, shape: StudyShape, months = 12, retrievals = 2, sends = 1): Bill {
  const { instances: n, instanceBytes: b } = shape;
  const bill = new Bill();
  bill.addAll(model.transaction('store', n, b));
  bill.addAll(model.transaction('retrieve', n * retrievals, b, { from: model.classAt(0, b) }));
  bill.addAll(model.transaction('metadata', n * retrievals, b));
  bill.addAll(model.transaction('send', n * sends, b, { from: model.classAt(0, b), instancesPerStudy: n }));
  for (let m = 0; m < months; m++) bill.addAll(model.storageMonth(n, b, m));
  return bill;
}

/** A steady month of `w`: this month's studies arrive, every retained month's are stored, the oldest leave. */
export function steadyMonth(model: CostModel, w: MonthlyWorkload): Bill {
  const bill = new Bill();
  for (const { shape, perMonth } of w.studies) {
    const { instances: n, instanceBytes: b } = shape;
    const arriving = perMonth * n;
    bill.addAll(model.transaction('store', arriving, b));
    bill.addAll(model.transaction('search', perMonth * w.searchesPerStudy, b));
    bill.addAll(model.transaction('retrieve', arriving * w.retrievalsFirstMonth, b, { from: model.classAt(0, b) }));
    bill.addAll(model.transaction('metadata', arriving * w.retrievalsFirstMonth, b));
    bill.addAll(model.transaction('send', arriving * w.sendsPerStudy, b, { from: model.classAt(0, b), instancesPerStudy: n }));
    for (let m = 0; m < w.retentionMonths; m++) {
      bill.addAll(model.storageMonth(arriving, b, m));
      if (m > 0 && w.priorRetrievalsPerStudyMonth > 0) {
        const priors = arriving * w.priorRetrievalsPerStudyMonth;
        bill.addAll(model.transaction('retrieve', priors, b, { from: model.classAt(m, b) }));
        bill.addAll(model.transaction('metadata', priors, b));
      }
    }
    bill.addAll(model.deletion(arriving, b, w.retentionMonths, n));
  }
  return bill;
}

/** The bytes a steady month of `w` holds (Part 10 files only). */
export function retainedBytes(w: MonthlyWorkload): number {
  return w.studies.reduce((n, s) => n + s.perMonth * studyBytes(s.shape) * w.retentionMonths, 0);
}

/** Bytes arriving per month (Part 10 files). */
export function monthlyBytes(w: MonthlyWorkload): number {
  return w.studies.reduce((n, s) => n + s.perMonth * studyBytes(s.shape), 0);
}
