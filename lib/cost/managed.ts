/**
 * The same workloads priced on the managed imaging services and on an Orthanc VM (docs/cost.md,
 * "Beside the alternatives"), from what each charges for in the price table: storage tiers, API
 * requests, transfer out; imports into HealthImaging are free. Each gets the workload's usage (./usage
 * below): instances stored and their bytes by age, requests, bytes leaving.
 */
import { Bill, GB, MONTH_HOURS } from './model';
import { priceOf, type PriceTable } from './prices';
import { studyBytes, type MonthlyWorkload, type StudyShape } from './workloads';

/** What a workload does in a month (or over a study's life), whatever the archive. */
export interface Usage {
  /** Instances stored, and the Store requests carrying them. */
  readonly storedInstances: number;
  readonly storeRequests: number;
  /** GB of Part 10 data held in each month of age (index 0: the month it arrived), summed over the period. */
  readonly gbMonthsByAge: readonly number[];
  /** Instances held (for per-object and metadata storage), as instance-months. */
  readonly instanceMonths: number;
  readonly retrievedInstances: number;
  readonly retrievedGb: number;
  readonly searches: number;
  readonly sentInstances: number;
  readonly sentGb: number;
  /** GB held at the end (what a disk must hold). */
  readonly heldGb: number;
}

/** A steady month of `w`. */
export function monthlyUsage(w: MonthlyWorkload, storeRequestsPerInstance: (bytes: number) => number): Usage {
  let storedInstances = 0,
    storeRequests = 0,
    retrievedInstances = 0,
    retrievedGb = 0,
    searches = 0,
    sentInstances = 0,
    sentGb = 0,
    instanceMonths = 0,
    heldGb = 0;
  const gbMonthsByAge = Array.from({ length: w.retentionMonths }, () => 0);
  for (const { shape, perMonth } of w.studies) {
    const arriving = perMonth * shape.instances;
    const gb = (perMonth * studyBytes(shape)) / GB;
    storedInstances += arriving;
    storeRequests += arriving * storeRequestsPerInstance(shape.instanceBytes);
    const retrievals = w.retrievalsFirstMonth + w.priorRetrievalsPerStudyMonth * (w.retentionMonths - 1);
    retrievedInstances += arriving * retrievals;
    retrievedGb += gb * retrievals;
    searches += perMonth * w.searchesPerStudy;
    sentInstances += arriving * w.sendsPerStudy;
    sentGb += gb * w.sendsPerStudy;
    instanceMonths += arriving * w.retentionMonths;
    heldGb += gb * w.retentionMonths;
    for (let m = 0; m < w.retentionMonths; m++) gbMonthsByAge[m]! += gb;
  }
  return {
    storedInstances,
    storeRequests,
    gbMonthsByAge,
    instanceMonths,
    retrievedInstances,
    retrievedGb,
    searches,
    sentInstances,
    sentGb,
    heldGb,
  };
}

/** One study stored, kept `months`, retrieved `retrievals` times and sent `sends` times. */
export function studyUsage(
  s: StudyShape,
  storeRequestsPerInstance: (bytes: number) => number,
  months = 12,
  retrievals = 2,
  sends = 1,
): Usage {
  const gb = studyBytes(s) / GB;
  return {
    storedInstances: s.instances,
    storeRequests: s.instances * storeRequestsPerInstance(s.instanceBytes),
    gbMonthsByAge: Array.from({ length: months }, () => gb),
    instanceMonths: s.instances * months,
    retrievedInstances: s.instances * retrievals,
    retrievedGb: gb * retrievals,
    searches: 0,
    sentInstances: s.instances * sends,
    sentGb: gb * sends,
    heldGb: gb,
  };
}

const sum = (xs: readonly number[]) => xs.reduce((n, x) => n + x, 0);

/**
 * AWS HealthImaging: Frequent Access in an image set's first month, Archive Instant Access after 30
 * days without access (priors read later move back for a while: not counted); one API call per
 * instance stored by STOW-RS, per instance retrieved (WADO-RS or GetImageFrame) and its metadata,
 * per search; a Send is a retrieve by the sender. Lossless HTJ2K transcoding may bill fewer bytes
 * than stored here (not applied: the ratio depends on the images).
 */
export function healthImaging(prices: PriceTable, u: Usage): Bill {
  const p = (k: string) => priceOf(prices, k);
  const b = new Bill();
  b.add('HealthImaging', 'storage, Frequent Access', (u.gbMonthsByAge[0] ?? 0) * p('healthimaging.frequentGbMonth'));
  b.add('HealthImaging', 'storage, Archive Instant Access', sum(u.gbMonthsByAge.slice(1)) * p('healthimaging.archiveInstantGbMonth'));
  const calls = u.storedInstances + 2 * u.retrievedInstances + u.searches + 2 * u.sentInstances;
  b.add('HealthImaging', 'API requests', calls * p('healthimaging.apiRequest'));
  b.add('Data transfer', 'out to the internet', (u.retrievedGb + u.sentGb) * p('transfer.internetOutGb'));
  return b;
}

/**
 * Google Cloud Healthcare API DICOM store: the instances as blob storage (Standard class), their
 * searchable metadata as structured storage (taken as the size of this archive's DICOM JSON per
 * instance), standard requests per Store request, retrieved instance and metadata read, complex
 * requests per search.
 */
export function googleHealthcare(prices: PriceTable, u: Usage, metadataBytesPerInstance: number): Bill {
  const p = (k: string) => priceOf(prices, k);
  const b = new Bill();
  b.add('Cloud Healthcare API', 'blob storage, Standard', sum(u.gbMonthsByAge) * p('gcp.healthcare.blobStandardGibMonth'));
  b.add(
    'Cloud Healthcare API',
    'structured storage (metadata)',
    ((u.instanceMonths * metadataBytesPerInstance) / GB) * p('gcp.healthcare.structuredGibMonth'),
  );
  const standard = u.storeRequests + 2 * u.retrievedInstances + 2 * u.sentInstances;
  b.add('Cloud Healthcare API', 'standard requests', standard * p('gcp.healthcare.standardRequest'));
  b.add('Cloud Healthcare API', 'complex requests (searches)', u.searches * p('gcp.healthcare.complexRequest'));
  b.add('Data transfer', 'out to the internet', (u.retrievedGb + u.sentGb) * p('gcp.internetOutGb'));
  return b;
}

/**
 * Azure Health Data Services DICOM service: files in the customer's Data Lake Storage (Hot), the
 * service's per-request and index charges (unverified figures, docs/cost.md), transfer out.
 */
export function azureDicom(prices: PriceTable, u: Usage, metadataBytesPerInstance: number): Bill {
  const p = (k: string) => priceOf(prices, k);
  const b = new Bill();
  b.add('Azure DICOM service', 'Data Lake Storage, Hot', sum(u.gbMonthsByAge) * p('azure.adls.hotGbMonth'));
  b.add(
    'Azure DICOM service',
    'index storage (unverified)',
    ((u.instanceMonths * metadataBytesPerInstance) / GB) * p('azure.dicom.structuredGbMonth'),
  );
  const calls = u.storeRequests + 2 * u.retrievedInstances + u.searches + 2 * u.sentInstances;
  b.add('Azure DICOM service', 'API requests (unverified)', calls * p('azure.dicom.apiRequest'));
  b.add('Data transfer', 'out to the internet', (u.retrievedGb + u.sentGb) * p('azure.internetOutGb'));
  return b;
}

/**
 * Orthanc on one EC2 m7g.large (2 vCPU, 8 GiB) all month, its files on an EBS gp3 volume sized to
 * what it holds plus 20 %, incremental snapshots as its backup (about the data once), transfer out.
 * `months` of the VM (a study's year: 12). One gp3 volume holds at most 16 TiB: above it, the row is
 * marked, as Orthanc would need its S3 plugin or several volumes.
 */
export function orthancVm(prices: PriceTable, u: Usage, months = 1): Bill {
  const p = (k: string) => priceOf(prices, k);
  const b = new Bill();
  const heldGbMonths = sum(u.gbMonthsByAge);
  b.add('Orthanc VM', 'EC2 m7g.large, on demand', months * MONTH_HOURS * p('ec2.m7g.large.hour'));
  b.add('Orthanc VM', 'EBS gp3 (data + 20 %)', heldGbMonths * 1.2 * p('ebs.gp3.gbMonth'));
  b.add('Orthanc VM', 'EBS snapshots (backup)', heldGbMonths * p('ebs.snapshot.gbMonth'));
  b.add('Data transfer', 'out to the internet', (u.retrievedGb + u.sentGb) * p('transfer.internetOutGb'));
  return b;
}

/** The largest gp3 volume, in GB (16 TiB). */
export const GP3_MAX_GB = 16 * 1024;
