/** A context value (cdk.json or `-c key=value`) the stack cannot deploy with, refused at synth. */
export class ArchiveContextError extends Error {
  constructor(key: string, value: unknown, expected: string) {
    super(`context ${key} must be ${expected}, got ${JSON.stringify(value)}`);
    this.name = 'ArchiveContextError';
  }
}
