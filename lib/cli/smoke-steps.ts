/**
 * The steps of the deploy smoke test, in order: each is a DICOMweb transaction (PS3.18) or SEND-RS
 * (Supplement 248) against a deployed archive, with the checks that prove it works end to end.
 * A step resolves to a one-line summary or throws a StepFailure saying what to check.
 */
import {
  MultipartError,
  newBoundary,
  parseMediaType,
  parseMultipartRelated,
  writeMultipartRelated,
  type MultipartPart,
} from '../../lambdas/dicom/multipart';
import { Tag } from '../../lambdas/dicom/tags';
import { call, StepFailure, type Answer } from './smoke-http';
import type { SmokeStudy } from './smoke-study';
import { describeStatus, sendAndWait, sendResourcePath } from '../../lambdas/send/send-client';
import { formatOutcome } from './send-output';

export interface SmokeContext {
  /** The service root: the ApiUrl output of the stack. */
  readonly origin: string;
  readonly fetch: typeof fetch;
  readonly timeoutMs: number;
  readonly study: SmokeStudy;
  readonly destination?: string;
  readonly verifyDestination: boolean;
  readonly keep: boolean;
  /** Bound on waiting for eventually consistent results (search, Send, asynchronous delete). */
  readonly maxWaitSeconds: number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
}

export interface SmokeStep {
  readonly title: string;
  /** Without it passing the later steps can only repeat its failure: they are skipped. */
  readonly required?: boolean;
  /** Why the step does not run in this configuration (e.g. no --destination), if it does not. */
  skip?(ctx: SmokeContext): string | undefined;
  run(ctx: SmokeContext): Promise<string>;
}

const DICOM_JSON = 'application/dicom+json';
type DicomJson = Record<string, { Value?: unknown[] }>;

const get = (ctx: SmokeContext, path: string, accept: string, base = ctx.origin) =>
  call(ctx.fetch, ctx.timeoutMs, 'GET', `${base}${path}`, { headers: { Accept: accept }, expect: [200] });

/** The DICOM JSON payload (PS3.18 F.2): an array of data sets (search, metadata) or one (Store response). */
function parseJson(answer: Answer): DicomJson[] | DicomJson {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(answer.body).toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null) return parsed as DicomJson[] | DicomJson;
  } catch {
    // reported below
  }
  throw new StepFailure('the answer is not DICOM JSON (PS3.18 F.2)', {
    status: answer.status,
    check: 'a proxy or gateway in front of the API rewriting answers',
  });
}

function json(answer: Answer): DicomJson[] {
  const parsed = parseJson(answer);
  if (Array.isArray(parsed)) return parsed;
  throw new StepFailure('the answer is not a DICOM JSON array (PS3.18 F.2)', { status: answer.status });
}

/** The Store Instances Response Module (PS3.18 10.5.3): one data set, possibly wrapped in an array. */
function storeResponse(answer: Answer): DicomJson | undefined {
  const parsed = parseJson(answer);
  return Array.isArray(parsed) ? parsed[0] : parsed;
}

const first = (obj: DicomJson | undefined, tag: string): unknown => obj?.[tag]?.Value?.[0];

function multipart(answer: Answer): MultipartPart[] {
  const boundary = parseMediaType(answer.headers.get('content-type') ?? '').params.boundary;
  if (!boundary) throw new StepFailure('the answer is not multipart/related (PS3.18 8.7.3.1)', { status: answer.status });
  try {
    return parseMultipartRelated(answer.body, boundary);
  } catch (err) {
    if (!(err instanceof MultipartError)) throw err;
    throw new StepFailure(`the multipart/related answer is malformed (${err.message})`, {
      status: answer.status,
      check: 'that nothing between the client and the API rewrites binary bodies (API Gateway binary media types, a proxy)',
    });
  }
}

/** Runs `attempt` until it returns true or the wait is over (GSIs are eventually consistent); then `failure()`. */
async function eventually(ctx: SmokeContext, attempt: () => Promise<boolean>, failure: () => StepFailure): Promise<void> {
  const deadline = ctx.now() + ctx.maxWaitSeconds * 1000;
  for (let delay = 250; ; delay = Math.min(delay * 2, 2_000)) {
    if (await attempt()) return;
    if (ctx.now() >= deadline) throw failure();
    await ctx.sleep(delay);
  }
}

const sameSet = (got: readonly unknown[], want: readonly string[]) => got.length === want.length && want.every((uid) => got.includes(uid));

export const capabilities: SmokeStep = {
  title: 'Retrieve Capabilities (OPTIONS /)',
  required: true,
  async run(ctx) {
    const answer = await call(ctx.fetch, ctx.timeoutMs, 'OPTIONS', `${ctx.origin}/`, { expect: [200] });
    return `200 ${answer.headers.get('content-type') ?? ''}`.trim();
  },
};

export const store: SmokeStep = {
  title: 'Store Instances (STOW-RS)',
  required: true,
  async run(ctx) {
    const boundary = newBoundary();
    const chunks: Uint8Array[] = [];
    for await (const chunk of writeMultipartRelated(
      ctx.study.instances.map((i) => ({ contentType: 'application/dicom', body: i.bytes })),
      boundary,
    ))
      chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const answer = await call(ctx.fetch, ctx.timeoutMs, 'POST', `${ctx.origin}/studies`, {
      headers: { 'Content-Type': `multipart/related; type="application/dicom"; boundary=${boundary}`, Accept: DICOM_JSON },
      body,
      expect: [200, 202, 409],
    });
    const module = storeResponse(answer);
    if (answer.status !== 200) {
      // PS3.18 10.5.3: 202 some failed or warned, 409 none stored; the reasons are in the module.
      const failed = (module?.[Tag.FailedSOPSequence]?.Value ?? []) as DicomJson[];
      const reasons = failed.map((f) => `Failure Reason ${Number(first(f, Tag.FailureReason)).toString(16).toUpperCase()}H`);
      throw new StepFailure(
        `STOW-RS answered ${answer.status}: ${failed.length} of ${ctx.study.instances.length} instances not stored (${[...new Set(reasons)].join(', ')})`,
        {
          status: answer.status,
          check: `the Failure Reasons (PS3.18 Table 10.5.3-2); instances stored stay in study ${ctx.study.studyInstanceUID} (DELETE it)`,
        },
      );
    }
    const referenced = (module?.[Tag.ReferencedSOPSequence]?.Value ?? []) as DicomJson[];
    if (referenced.length !== ctx.study.instances.length) {
      throw new StepFailure(`the response references ${referenced.length} of ${ctx.study.instances.length} stored instances`, {
        status: answer.status,
      });
    }
    return `${referenced.length} instances stored, study ${ctx.study.studyInstanceUID}`;
  },
};

export const search: SmokeStep = {
  title: 'Search (QIDO-RS): study by UID and PatientID, series, instances',
  async run(ctx) {
    const { study } = ctx;
    const studyUID = study.studyInstanceUID;
    const seriesUIDs = [...new Set(study.instances.map((i) => i.seriesInstanceUID))];
    const sopUIDs = study.instances.map((i) => i.sopInstanceUID);
    const checks: [string, string, (found: DicomJson[]) => boolean][] = [
      [
        'the study by StudyInstanceUID',
        `/studies?StudyInstanceUID=${studyUID}`,
        (f) =>
          sameSet(
            f.map((o) => first(o, Tag.StudyInstanceUID)),
            [studyUID],
          ),
      ],
      [
        'the study by PatientID',
        `/studies?PatientID=${encodeURIComponent(study.patientID)}`,
        (f) =>
          sameSet(
            f.map((o) => first(o, Tag.StudyInstanceUID)),
            [studyUID],
          ),
      ],
      [
        'its series',
        `/studies/${studyUID}/series`,
        (f) =>
          sameSet(
            f.map((o) => first(o, Tag.SeriesInstanceUID)),
            seriesUIDs,
          ),
      ],
      [
        'its instances',
        `/studies/${studyUID}/instances`,
        (f) =>
          sameSet(
            f.map((o) => first(o, Tag.SOPInstanceUID)),
            sopUIDs,
          ),
      ],
    ];
    for (const [what, path, matches] of checks) {
      let found: DicomJson[] = [];
      const attempt = async () => {
        const answer = await call(ctx.fetch, ctx.timeoutMs, 'GET', `${ctx.origin}${path}`, {
          headers: { Accept: DICOM_JSON },
          expect: [200, 204],
        });
        found = answer.status === 204 ? [] : json(answer);
        return matches(found);
      };
      await eventually(
        ctx,
        attempt,
        () =>
          new StepFailure(`GET ${path} did not find ${what} within ${ctx.maxWaitSeconds} s (${found.length} matches)`, {
            check: "the store function's index writes (its CloudWatch logs)",
          }),
      );
    }
    return `1 study, ${seriesUIDs.length} series, ${sopUIDs.length} instances found`;
  },
};

export const retrieve: SmokeStep = {
  title: 'Retrieve (WADO-RS): instances byte-identical, metadata, a frame',
  async run(ctx) {
    const { study } = ctx;
    const instancePath = (i: SmokeStudy['instances'][number]) =>
      `/studies/${study.studyInstanceUID}/series/${i.seriesInstanceUID}/instances/${i.sopInstanceUID}`;
    for (const instance of study.instances) {
      const answer = await get(ctx, instancePath(instance), 'multipart/related; type="application/dicom"; transfer-syntax=*');
      const parts = multipart(answer);
      if (parts.length !== 1 || Buffer.compare(Buffer.from(parts[0]!.body), Buffer.from(instance.bytes)) !== 0) {
        throw new StepFailure(`instance ${instance.sopInstanceUID} came back different from the bytes stored (${parts.length} parts)`, {
          check: 'that nothing between the client and the API rewrites binary bodies (API Gateway binary media types, a proxy)',
        });
      }
    }
    const metadata = json(await get(ctx, `/studies/${study.studyInstanceUID}/metadata`, DICOM_JSON));
    const sopUIDs = study.instances.map((i) => i.sopInstanceUID);
    if (
      !sameSet(
        metadata.map((o) => first(o, Tag.SOPInstanceUID)),
        sopUIDs,
      )
    ) {
      throw new StepFailure(`the study metadata lists ${metadata.length} instances, not the ${sopUIDs.length} stored`);
    }
    const one = study.instances[0]!;
    const frames = multipart(
      await get(ctx, `${instancePath(one)}/frames/1`, 'multipart/related; type="application/octet-stream"; transfer-syntax=*'),
    );
    if (frames.length !== 1 || Buffer.compare(Buffer.from(frames[0]!.body), Buffer.from(one.frame)) !== 0) {
      throw new StepFailure('frame 1 came back different from the pixel data stored');
    }
    return `${study.instances.length} instances byte-identical, metadata of ${metadata.length}, frame 1 identical`;
  },
};

export const send: SmokeStep = {
  title: 'Send (SEND-RS) and Check Send Result',
  skip: (ctx) => (ctx.destination ? undefined : 'no --destination given'),
  async run(ctx) {
    const destination = ctx.destination!;
    const expected = ctx.study.instances.length;
    const outcome = await sendAndWait({
      origin: ctx.origin,
      resourcePath: sendResourcePath({ studyInstanceUID: ctx.study.studyInstanceUID }),
      destination,
      search: [],
      maxWaitSeconds: ctx.maxWaitSeconds,
      fetch: ctx.fetch,
      sleep: ctx.sleep,
      now: ctx.now,
    });
    if (outcome.kind === 'failed') {
      throw new StepFailure(formatOutcome(outcome).trim(), {
        ...(outcome.httpStatus !== undefined ? { status: outcome.httpStatus } : {}),
        check:
          outcome.httpStatus === 400
            ? "that the destination is registered in the origin's destinations (docs/send-rs.md)"
            : 'the Send workflow executions (Step Functions console)',
      });
    }
    if (outcome.kind === 'timed-out')
      throw new StepFailure(formatOutcome(outcome).trim(), { check: 'the Send workflow executions (Step Functions console)' });
    const { response } = outcome;
    if (response.completed !== expected) {
      throw new StepFailure(
        `${describeStatus(response.status)}: completed ${response.completed} of ${expected} (failed ${response.failed}, warning ${response.warning})`,
        {
          check: "the destination's answers in the Deliver function's logs, and the destination's credentials",
        },
      );
    }
    let verified = '';
    if (ctx.verifyDestination) {
      const path = `/studies/${ctx.study.studyInstanceUID}/instances`;
      const found = json(await get(ctx, path, DICOM_JSON, destination.replace(/\/+$/, '')));
      if (
        !sameSet(
          found.map((o) => first(o, Tag.SOPInstanceUID)),
          ctx.study.instances.map((i) => i.sopInstanceUID),
        )
      ) {
        throw new StepFailure(`the destination holds ${found.length} of the ${expected} instances sent`);
      }
      verified = ', found in the destination';
    }
    return `${describeStatus(response.status)}, completed ${response.completed}/${expected}${verified}`;
  },
};

export const remove: SmokeStep = {
  title: 'Delete the study, then 404/410',
  skip: (ctx) => (ctx.keep ? `--keep: study ${ctx.study.studyInstanceUID} stays` : undefined),
  async run(ctx) {
    const path = `/studies/${ctx.study.studyInstanceUID}`;
    const answer = await call(ctx.fetch, ctx.timeoutMs, 'DELETE', `${ctx.origin}${path}`, { expect: [200, 202, 204] });
    // 202: the deletion goes on asynchronously; the study is gone once its metadata answers 404 / 410.
    let gone = 0;
    const attempt = async () => {
      gone = (
        await call(ctx.fetch, ctx.timeoutMs, 'GET', `${ctx.origin}${path}/metadata`, {
          headers: { Accept: DICOM_JSON },
          expect: [200, 404, 410],
        })
      ).status;
      return gone !== 200;
    };
    await eventually(
      ctx,
      attempt,
      () =>
        new StepFailure(`the study still answers 200 ${ctx.maxWaitSeconds} s after DELETE answered ${answer.status}`, {
          check: "the delete function's CloudWatch logs",
        }),
    );
    return `DELETE ${answer.status}, then ${gone}`;
  },
};

export const SMOKE_STEPS: readonly SmokeStep[] = [capabilities, store, search, retrieve, send, remove];
