/**
 * The OHIF Viewer deployed beside the archive (context viewer=true, docs/deploy.md "Viewer"): one
 * CloudFront distribution, one origin for the browser, so no CORS. Its default behavior serves the
 * viewer's files from a private bucket through Origin Access Control; `/dicomweb/*` goes to the REST
 * API's stage with caching off and every viewer header but Host (Authorization and Accept reach the
 * API). All answer with the same security headers; the scripts' CSP, which binds the workers started
 * from them, also allows 'unsafe-eval' (lib/viewer/security-headers.ts).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Duration, RemovalPolicy, Size, Stack, Validations } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import type { ArchiveLogs } from './logs';
import { contentSecurityPolicy, workerContentSecurityPolicy } from '../viewer/security-headers';
import { inlineScriptHashes } from '../viewer/site-files';
import { DICOMWEB_PATH, DICOMWEB_PREFIX_SOURCE, SPA_FALLBACK_SOURCE } from './viewer-edge-functions';

export { DICOMWEB_PATH } from './viewer-edge-functions';

/** The viewer's scripts, whose answers' CSP is the one their workers run under. */
export const SCRIPT_FILES = '*.js';
/** Files named by their content hash: cached for a year, never revalidated. */
export const IMMUTABLE_FILES = ['*.bundle.*.js'];
/** WebAssembly modules: served as application/wasm, which streaming compilation requires. */
export const WASM_FILES = ['*.wasm'];
/** Replaced by the generated configuration, or of the viewer's own host (Netlify) only. */
const OMITTED_FILES = ['app-config.js', '_headers', '_redirects'];
export const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';
/** index.html, app-config.js and every file not named by its content: revalidated at each use. */
export const REVALIDATED_CACHE = 'no-cache';

export interface ViewerSiteProps {
  /** The viewer's built files (OHIF's dist/, lib/viewer/dist.ts): index.html, bundles, WebAssembly. */
  readonly distDir: string;
  /** The REST API and its stage, reached under DICOMWEB_PATH. */
  readonly api: apigateway.RestApi;
  readonly stageName: string;
  /** Where the bucket's server access logs go (the archive's access log bucket). */
  readonly accessLogsBucket: s3.IBucket;
  readonly logs: ArchiveLogs;
  /** Origins of the OpenID provider the viewer talks to (discovery, token, hosted sign-in), for the CSP. */
  readonly identityOrigins?: readonly string[];
  /** Edge locations served (default PRICE_CLASS_100: North America and Europe). */
  readonly priceClass?: cloudfront.PriceClass;
  /** Keep the bucket with the stack's data when the stack is deleted (default true). */
  readonly retainData?: boolean;
}

export class ViewerSite extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  /** https://{distribution domain}, without a trailing slash. */
  readonly origin: string;
  /** The Studies service root on the distribution: {origin}/dicomweb. */
  readonly serviceRoot: string;
  /** The security headers of every answer but the scripts'. */
  readonly responseHeadersPolicy: cloudfront.ResponseHeadersPolicy;
  /** The scripts' security headers: the same, their CSP (which binds workers) with 'unsafe-eval'. */
  readonly scriptHeadersPolicy: cloudfront.ResponseHeadersPolicy;
  private readonly props: ViewerSiteProps;

  constructor(scope: Construct, id: string, props: ViewerSiteProps) {
    super(scope, id);
    this.props = props;
    const retain = props.retainData ?? true;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // SSE-S3: CloudFront reads through OAC without a grant on a key; the files are public code.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'viewer/',
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      autoDeleteObjects: !retain,
    });
    Validations.of(this.bucket).acknowledge(
      {
        id: 'HIPAA.Security-S3DefaultEncryptionKMS',
        reason:
          "The bucket holds the viewer's published code and no patient data; SSE-S3 lets CloudFront read it through " +
          'Origin Access Control without a grant on a KMS key.',
      },
      {
        id: 'HIPAA.Security-S3BucketReplicationEnabled',
        reason: 'The files are redeployed from the published viewer package by every deployment of the stack.',
      },
    );

    const identityOrigins = props.identityOrigins ?? [];
    const scriptHashes = inlineScriptHashes(readFileSync(path.join(props.distDir, 'index.html'), 'utf8'));
    this.responseHeadersPolicy = securityHeaders(this, 'SecurityHeaders', contentSecurityPolicy(scriptHashes, identityOrigins));
    this.scriptHeadersPolicy = securityHeaders(this, 'ScriptSecurityHeaders', workerContentSecurityPolicy(identityOrigins));

    const spaFallback = new cloudfront.Function(this, 'SpaFallback', {
      comment: 'Viewer routes without a file extension get index.html',
      code: cloudfront.FunctionCode.fromInline(SPA_FALLBACK_SOURCE),
      runtime: cloudfront.FunctionRuntime.JS_2_0,
    });
    const dicomwebPrefix = new cloudfront.Function(this, 'DicomwebPrefix', {
      comment: 'Strips /dicomweb and sets X-Forwarded-Host and X-Forwarded-Prefix for the API',
      code: cloudfront.FunctionCode.fromInline(DICOMWEB_PREFIX_SOURCE),
      runtime: cloudfront.FunctionRuntime.JS_2_0,
    });

    // The API's domain from its id and region, not api.url: that names the deployment, which waits for
    // every method and function, and the functions wait for this distribution (PUBLIC_BASE_URL).
    const stack = Stack.of(this);
    const apiOrigin = new origins.HttpOrigin(`${props.api.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}`, {
      originPath: `/${props.stageName}`,
      protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
      originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
      // Between bytes, not in all: a streamed retrieve runs as long as its function.
      readTimeout: Duration.seconds(60),
    });
    const api: cloudfront.BehaviorOptions = {
      origin: apiOrigin,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      // With caching off, the all-viewer policies are the way to forward Authorization; Host must be the API's.
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      responseHeadersPolicy: this.responseHeadersPolicy,
      compress: false,
      functionAssociations: [{ function: dicomwebPrefix, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
    };
    const files: cloudfront.BehaviorOptions = {
      origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
      cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
      responseHeadersPolicy: this.responseHeadersPolicy,
      compress: true,
    };
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'DICOMweb archive: OHIF Viewer and the DICOMweb API on one origin',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        ...files,
        functionAssociations: [{ function: spaFallback, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
      },
      // In this order: the API's paths first, then every script (a file: no SPA fallback).
      additionalBehaviors: {
        [DICOMWEB_PATH]: api,
        [`${DICOMWEB_PATH}/*`]: api,
        [SCRIPT_FILES]: { ...files, responseHeadersPolicy: this.scriptHeadersPolicy },
      },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: props.priceClass ?? cloudfront.PriceClass.PRICE_CLASS_100,
      // No standard logs: they keep every query string (QIDO keys such as PatientName) and cannot leave
      // it out from a regional stack (acknowledge below).
      enableLogging: false,
    });
    this.origin = `https://${this.distribution.distributionDomainName}`;
    this.serviceRoot = `${this.origin}${DICOMWEB_PATH}`;
    this.acknowledge();
  }

  /**
   * Deploys the viewer's files with `appConfig` as app-config.js (it may hold deploy-time values such
   * as a client id). Three copies of the same asset, one per caching and media type; prune leaves the
   * others' files alone (their patterns are excluded), and old bundles stay for tabs still open.
   */
  deployFiles(appConfig: string): void {
    const files = s3deploy.Source.asset(this.props.distDir, { exclude: OMITTED_FILES });
    const common = {
      destinationBucket: this.bucket,
      // The viewer is some 200 MB unpacked: room to unzip it.
      memoryLimit: 1024,
      ephemeralStorageSize: Size.gibibytes(2),
      logGroup: this.props.logs.logGroup(this, 'DeploymentLogs'),
      // Some 250 files: their keys would pass the 4 KB answer of a custom resource.
      outputObjectKeys: false,
    };
    const only = (patterns: readonly string[]) => ({ exclude: ['*'], include: [...patterns] });
    const immutable = new s3deploy.BucketDeployment(this, 'ImmutableFiles', {
      ...common,
      sources: [files],
      ...only(IMMUTABLE_FILES),
      prune: false,
      cacheControl: [s3deploy.CacheControl.fromString(IMMUTABLE_CACHE)],
    });
    const wasm = new s3deploy.BucketDeployment(this, 'WasmFiles', {
      ...common,
      sources: [files],
      ...only(WASM_FILES),
      contentType: 'application/wasm',
      cacheControl: [s3deploy.CacheControl.fromString(REVALIDATED_CACHE)],
    });
    const rest = new s3deploy.BucketDeployment(this, 'OtherFiles', {
      ...common,
      sources: [files, s3deploy.Source.data('app-config.js', appConfig)],
      exclude: [...IMMUTABLE_FILES, ...WASM_FILES],
      cacheControl: [s3deploy.CacheControl.fromString(REVALIDATED_CACHE)],
      distribution: this.distribution,
      distributionPaths: ['/*'],
    });
    // index.html names the bundles: it goes out, and the cache is invalidated, once they are there.
    rest.node.addDependency(immutable, wasm);
    this.acknowledgeDeployment();
  }

  private acknowledge(): void {
    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason: 'Who may read is decided by the sign-in and the API authorizer; a site restricts countries with its own ACL.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'A web ACL of a distribution must be created in us-east-1, which this regional stack is not ' +
          '(docs/deploy.md "Viewer"); the DICOMweb requests still pass the regional web ACL of the API stage.',
      },
      {
        id: 'AwsSolutions-CFR3',
        reason:
          "Standard logs would keep each request's query string, where QIDO-RS carries patient attributes, and a " +
          "regional stack cannot choose their fields (logging v2 lives in us-east-1). Every DICOMweb request is in the API stage's access " +
          "log (resource templates, no query strings), every file CloudFront fetches in the viewer bucket's server access log.",
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          "The distribution's default *.cloudfront.net certificate accepts TLSv1 clients by CloudFront's rule; " +
          'the origins are reached with TLS 1.2 and a custom domain with its own certificate can require TLS 1.2.',
      },
    );
  }

  /** The deployment's function (CDK's own, one per stack) and its role, as CDK builds them. */
  private acknowledgeDeployment(): void {
    const stack = Stack.of(this);
    const reason =
      "CDK's BucketDeployment function copies the viewer's files from the CDK asset bucket at deployment only, " +
      'then invalidates the distribution (CloudFront invalidations have no resource-level permission); its ' +
      'runtime, role and policy are set by CDK, and it touches no patient data.';
    const bucket = stack.resolve((this.bucket.node.defaultChild as s3.CfnBucket).logicalId) as string;
    const findings = [
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map((a) => `AwsSolutions-IAM5[Action::${a}]`),
      'AwsSolutions-IAM5[Resource::*]',
      `AwsSolutions-IAM5[Resource::<${bucket}.Arn>/*]`,
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]',
      'AwsSolutions-L1',
      'HIPAA.Security-IAMNoInlinePolicy',
      'HIPAA.Security-LambdaConcurrency',
      'HIPAA.Security-LambdaDLQ',
      'HIPAA.Security-LambdaInsideVPC',
    ];
    for (const child of stack.node.children) {
      if (child.node.id.startsWith('Custom::CDKBucketDeployment')) {
        Validations.of(child).acknowledge(...findings.map((id) => ({ id, reason })));
      }
    }
  }
}

/**
 * HSTS, nosniff, DENY, no referrer (viewer URLs carry Study Instance UIDs, none leaves with a request
 * to another site), a Permissions-Policy, and `csp`.
 */
function securityHeaders(scope: Construct, id: string, csp: string): cloudfront.ResponseHeadersPolicy {
  return new cloudfront.ResponseHeadersPolicy(scope, id, {
    comment: 'DICOMweb archive viewer: HSTS, CSP, no framing, no sniffing, no referrer',
    securityHeadersBehavior: {
      strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: true, override: true },
      contentTypeOptions: { override: true },
      frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
      referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
      contentSecurityPolicy: { contentSecurityPolicy: csp, override: true },
    },
    customHeadersBehavior: {
      customHeaders: [{ header: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=(), payment=()', override: true }],
    },
  });
}
