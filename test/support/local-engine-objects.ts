/** The bytes of object i of the local engine's crash tests: its length and content tell it from any other. */
export function objectBytes(i: number): Uint8Array {
  const b = new Uint8Array(64 * 1024 + i * 97);
  for (let j = 0; j < b.length; j++) b[j] = (j * 13 + i) & 0xff;
  return b;
}
