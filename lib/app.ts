import { pathToFileURL } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { ArchiveStack } from './archive-stack';

/**
 * Builds the CDK app. Environment-agnostic (no account/region, no lookups), so `cdk synth` works
 * offline without credentials. cdk-nag runs as CDK validation plugins unless context nag='false'.
 */
export function buildApp(app: App = new App()): { app: App; stack: ArchiveStack } {
  const stackName: string = app.node.tryGetContext('stackName') ?? 'DicomwebArchive';
  const stack = new ArchiveStack(app, stackName, {
    description: 'Serverless DICOMweb archive (PS3.18) with SEND-RS (Supplement 248)',
  });
  const nag: unknown = app.node.tryGetContext('nag');
  if (nag !== false && nag !== 'false') {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new HIPAASecurityChecks(app));
  }
  return { app, stack };
}

// Entry of cdk.json "app"; importing this module (tests) builds nothing.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  buildApp().app.synth();
}
