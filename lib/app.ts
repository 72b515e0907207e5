import { pathToFileURL } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { ArchiveStack } from './archive-stack';
import { ensureViewerDist, VIEWER_FETCH_COMMAND } from './viewer/dist';
import { viewerRequested } from './viewer-context';

export interface BuildAppOptions {
  /** The viewer's build directory, for context viewer=true (see viewerDistFor). */
  readonly viewerDist?: string;
}

/**
 * Builds the CDK app. Environment-agnostic (no account/region, no lookups), so `cdk synth` works
 * offline without credentials. cdk-nag runs as CDK validation plugins unless context nag='false'.
 */
export function buildApp(app: App = new App(), options: BuildAppOptions = {}): { app: App; stack: ArchiveStack } {
  const stackName: string = app.node.tryGetContext('stackName') ?? 'DicomwebArchive';
  const stack = new ArchiveStack(app, stackName, {
    description: 'Serverless DICOMweb archive (PS3.18) with SEND-RS (Supplement 248)',
    viewerDist: options.viewerDist,
  });
  const nag: unknown = app.node.tryGetContext('nag');
  if (nag !== false && nag !== 'false') {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new HIPAASecurityChecks(app));
  }
  return { app, stack };
}

/**
 * With context viewer=true and no `viewerDist`, the OHIF Viewer's published build, fetched once into
 * the repository's git-ignored cache (lib/viewer/dist.ts); a construct cannot await, so the app does.
 */
export async function viewerDistFor(
  app: App,
  fetch: () => Promise<string> = () => ensureViewerDist({ log: (line) => console.error(line) }),
): Promise<string | undefined> {
  if (!viewerRequested(app.node) || app.node.tryGetContext('viewerDist')) return undefined;
  try {
    return await fetch();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Context viewer=true: the OHIF Viewer's build could not be fetched (${reason}); run \`${VIEWER_FETCH_COMMAND}\`.`);
  }
}

// Entry of cdk.json "app"; importing this module (tests) builds nothing.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const app = new App();
  buildApp(app, { viewerDist: await viewerDistFor(app) }).app.synth();
}
