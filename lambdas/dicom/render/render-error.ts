/** Why a frame cannot be rendered; the service maps each reason to its status (PS3.18 8.3.5, 10.4.1.1.3). */
export class RenderError extends Error {
  constructor(
    readonly reason: 'unsupported-transfer-syntax' | 'not-an-image' | 'frame-out-of-range' | 'corrupt',
    message: string,
  ) {
    super(message);
    this.name = 'RenderError';
  }
}
